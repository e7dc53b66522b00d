// kaireon-events against moto: Kinesis (publish, invalid input, tail from earliest, a malformed
// record, check with a missing stream, replay) and EventBridge → SQS (publish, tail, check with a
// missing bus and a missing queue).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateEventBusCommand, DeleteEventBusCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  PutRecordCommand,
} from "@aws-sdk/client-kinesis";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ensureRuleToQueue } from "@kaireon/events-eventbridge";
import { createKinesisClient } from "@kaireon/events-kinesis";
import { requireService, sampleDecision, sampleInteraction, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess, cliEnv, ndjson, runCli, unique } from "../support/cli.js";

let endpoint: string;
const region = () => process.env.AWS_REGION ?? "us-east-1";
const lines = (...values: unknown[]) => `${values.map((v) => JSON.stringify(v)).join("\n")}\n`;
const dir = mkdtempSync(join(tmpdir(), "kaireon-cli-aws-"));

beforeAll(async () => {
  endpoint = await requireService({ variable: "AWS_ENDPOINT_URL", name: "AWS emulator (moto server)" });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Kinesis", () => {
  let kinesis: KinesisClient;
  let stream: string;
  const env = (extra: Record<string, string> = {}) =>
    cliEnv({
      EVENT_PUBLISHER: "kinesis",
      KINESIS_STREAM: stream,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region(),
      KINESIS_POLL_INTERVAL_MS: "200",
      ...extra,
    });

  beforeAll(async () => {
    // The kinesis package's client: the SDK default speaks a protocol moto does not answer.
    kinesis = createKinesisClient({ endpoint, requestTimeoutMs: 10_000 });
    stream = unique("kaireon-cli");
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
    for (let i = 0; i < 100; i++) {
      const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
      if (out.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await kinesis.send(new DeleteStreamCommand({ StreamName: stream })).catch(() => {});
    kinesis.destroy();
  });

  it("publish prints sequence numbers; tail --from earliest reads them back; a malformed record is reported with its position", async () => {
    const tenantId = uniqueTenant();
    // Same partition key as the events, written first: same shard, so it is read before them.
    const bad = await kinesis.send(
      new PutRecordCommand({ StreamName: stream, PartitionKey: `${tenantId}:cust-1`, Data: Buffer.from("garbage, not JSON") }),
    );
    const pub = await runCli(["publish", "interaction.recorded.v1"], {
      env: env(),
      input: lines(sampleInteraction({ tenantId }), sampleInteraction({ tenantId })),
    });
    expect(pub.code).toBe(0);
    const out = ndjson<{ id: string; position: string }>(pub.stdout);
    for (const o of out) expect(o.position).toMatch(/\d{10,}/);
    const tail = await runCli(["tail", "--from", "earliest", "--tenant", tenantId, "--count", "2"], { env: env(), timeoutMs: 60_000 });
    expect(tail.code).toBe(0);
    expect(new Set(ndjson<{ id: string }>(tail.stdout).map((e) => e.id))).toEqual(new Set(out.map((o) => o.id)));
    expect(tail.stderr).toContain("MALFORMED_MESSAGE");
    expect(tail.stderr).toContain(bad.SequenceNumber as string);
  });

  it("an invalid line: exit 2, nothing sent", async () => {
    const tenantId = uniqueTenant();
    const pub = await runCli(["publish", "interaction.recorded.v1"], {
      env: env(),
      input: lines(sampleInteraction({ tenantId }), { ...sampleInteraction({ tenantId }), timestamp: "yesterday" }),
    });
    expect(pub.code).toBe(2);
    expect(pub.stderr).toContain("line 2: data.timestamp:");
    const marker = uniqueTenant("marker");
    await runCli(["publish", "interaction.recorded.v1"], { env: env(), input: lines(sampleInteraction({ tenantId: marker })) });
    const tail = await runCli(["tail", "--from", "earliest", "--tenant", tenantId, "--tenant", marker, "--count", "1", "--quiet"], {
      env: env(),
      timeoutMs: 60_000,
    });
    expect(ndjson<{ tenantid: string }>(tail.stdout).map((e) => e.tenantid)).toEqual([marker]);
  });

  it("check: a working stream → exit 0; a missing stream → named, with the fix", async () => {
    const ok = await runCli(["check"], { env: env() });
    expect(ok.stdout).toContain("ok   the stream exists and is ACTIVE");
    expect(ok.code).toBe(0);
    const missing = unique("kaireon-cli-missing");
    const r = await runCli(["check"], { env: env({ KINESIS_STREAM: missing }) });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL connect to kinesis:`);
    expect(r.stdout).toContain(missing);
    expect(r.stdout).toContain("fix: the stream does not exist — create it (aws kinesis create-stream) or fix KINESIS_STREAM");
  });

  it("a publish the broker refuses (the stream does not exist): each line's error, exit 1", async () => {
    const r = await runCli(["publish", "interaction.recorded.v1"], {
      env: env({ KINESIS_STREAM: unique("kaireon-cli-gone"), KINESIS_MAX_ATTEMPTS: "1", KINESIS_PUBLISH_TIMEOUT_MS: "5000" }),
      input: lines(sampleInteraction()),
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^line 1: [A-Z_]+: .*kaireon-cli-gone/m);
    expect(r.stderr).toContain("PUBLISH_FAILED: 1 of 1 event(s) were not published");
    expect(r.stderr).not.toContain("unexpected error");
  });

  it("replay from Kinesis into Redis Streams keeps the ids", async () => {
    const redisUrl = await requireService({ variable: "REDIS_URL", name: "Redis" });
    const tenantId = uniqueTenant();
    const from = new Date(Date.now() - 1000).toISOString();
    const pub = await runCli(["publish", "decision.made.v1"], {
      env: env(),
      input: lines(sampleDecision({ tenantId }), sampleDecision({ tenantId })),
    });
    expect(pub.code).toBe(0);
    const prefix = `${unique("cli-kin")}:`;
    const envFile = join(dir, "kinesis-target.env");
    writeFileSync(envFile, `EVENT_PUBLISHER=redis\nREDIS_URL=${redisUrl}\nREDIS_MODE=streams\nREDIS_CHANNEL_PREFIX=${prefix}\n`);
    const r = await runCli(["replay", "decision.made.v1", "--from", from, "--target", envFile, "--idle", "3"], {
      env: env(),
      timeoutMs: 90_000,
    });
    expect(r.code).toBe(0);
    const tail = await runCli(["tail", "--from", "earliest", "--tenant", tenantId, "--count", "2", "--quiet"], {
      env: cliEnv({ EVENT_PUBLISHER: "redis", REDIS_URL: redisUrl, REDIS_MODE: "streams", REDIS_CHANNEL_PREFIX: prefix }),
    });
    expect(new Set(ndjson<{ id: string }>(tail.stdout).map((e) => e.id))).toEqual(
      new Set(ndjson<{ id: string }>(pub.stdout).map((o) => o.id)),
    );
  });
});

describe("EventBridge → SQS", () => {
  let eventBridge: EventBridgeClient;
  let sqs: SQSClient;
  let bus: string;
  let queueUrl: string;
  const source = unique("kaireon.cli");
  const env = (extra: Record<string, string> = {}) =>
    cliEnv({
      EVENT_PUBLISHER: "eventbridge",
      EVENTBRIDGE_BUS: bus,
      EVENTBRIDGE_SOURCE: source,
      EVENTBRIDGE_QUEUE_URL: queueUrl,
      EVENTBRIDGE_SQS_WAIT_SECONDS: "1",
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region(),
      ...extra,
    });

  beforeAll(async () => {
    eventBridge = new EventBridgeClient({ endpoint, region: region() });
    sqs = new SQSClient({ endpoint, region: region() });
    // A bus of its own: moto evaluates every rule of a bus for every event.
    bus = unique("kaireon-cli-bus");
    await eventBridge.send(new CreateEventBusCommand({ Name: bus }));
    const wired = await ensureRuleToQueue({ eventBridge, sqs, name: unique("kaireon-cli"), bus, source });
    queueUrl = wired.queueUrl;
  });
  afterAll(async () => {
    await eventBridge.send(new DeleteEventBusCommand({ Name: bus })).catch(() => {});
    eventBridge.destroy();
    sqs.destroy();
  });

  it("tail reads what publish put on the bus, through the rule's queue", async () => {
    const tenantId = uniqueTenant();
    const tail = new CliProcess(["tail", "--tenant", tenantId], env());
    try {
      await tail.listening();
      expect(tail.stderr).toContain("EventBridge has no groups");
      const pub = await runCli(["publish", "interaction.recorded.v1"], {
        env: env(),
        input: lines(sampleInteraction({ tenantId }), sampleInteraction({ tenantId, interactionType: "conversion" })),
      });
      expect(pub.code).toBe(0);
      await tail.waitFor("two events", () => tail.lines.length >= 2, 60_000);
      expect(new Set(ndjson<{ id: string }>(tail.stdout).map((e) => e.id))).toEqual(
        new Set(ndjson<{ id: string }>(pub.stdout).map((o) => o.id)),
      );
    } finally {
      expect(await tail.stop()).toBe(0);
    }
  });

  it("replay re-feeds EventBridge targets from Redis Streams, ids unchanged", async () => {
    const redisUrl = await requireService({ variable: "REDIS_URL", name: "Redis" });
    const tenantId = uniqueTenant();
    const prefix = `${unique("cli-eb-src")}:`;
    const source = cliEnv({ EVENT_PUBLISHER: "redis", REDIS_URL: redisUrl, REDIS_MODE: "streams", REDIS_CHANNEL_PREFIX: prefix });
    const pub = await runCli(["publish", "decision.made.v1"], {
      env: source,
      input: lines(sampleDecision({ tenantId }), sampleDecision({ tenantId })),
    });
    expect(pub.code).toBe(0);
    const envFile = join(dir, "eventbridge-target.env");
    writeFileSync(
      envFile,
      Object.entries(env())
        .filter(([k]) => /^(EVENT_PUBLISHER|EVENTBRIDGE_|AWS_)/.test(k))
        .map(([k, v]) => `${k}=${v}`)
        .join("\n"),
    );
    const r = await runCli(["replay", "--from", "earliest", "--target", envFile, "--idle", "2"], { env: source, timeoutMs: 60_000 });
    expect(r.stdout).toContain("replayed 2 event(s) to eventbridge");
    expect(r.code).toBe(0);
    const tail = await runCli(["tail", "--tenant", tenantId, "--count", "2", "--quiet"], { env: env(), timeoutMs: 60_000 });
    expect(new Set(ndjson<{ id: string }>(tail.stdout).map((e) => e.id))).toEqual(
      new Set(ndjson<{ id: string }>(pub.stdout).map((o) => o.id)),
    );
  });

  it("an invalid line: exit 2, nothing sent", async () => {
    const pub = await runCli(["publish", "decision.made.v1"], { env: env(), input: lines({ ...sampleDecision(), offersReturned: -1 }) });
    expect(pub.code).toBe(2);
    expect(pub.stderr).toContain("line 1: data.offersReturned:");
    expect(pub.stdout).toBe("");
  });

  it("check: working → exit 0 with the queue; a missing bus and a missing queue → named, with the fix", async () => {
    const ok = await runCli(["check"], { env: env() });
    expect(ok.stdout).toContain("ok   the event bus exists");
    expect(ok.stdout).toContain("ok   EVENTBRIDGE_QUEUE_URL exists");
    expect(ok.code).toBe(0);
    const missingBus = await runCli(["check"], { env: env({ EVENTBRIDGE_BUS: unique("kaireon-cli-nobus") }) });
    expect(missingBus.code).toBe(1);
    expect(missingBus.stdout).toContain("FAIL connect to eventbridge");
    expect(missingBus.stdout).toContain("fix: the bus does not exist — create it or fix EVENTBRIDGE_BUS");
    const missingQueue = await runCli(["check"], { env: env({ EVENTBRIDGE_QUEUE_URL: `${queueUrl}-gone` }) });
    expect(missingQueue.code).toBe(1);
    expect(missingQueue.stdout).toContain("FAIL EVENTBRIDGE_QUEUE_URL");
    expect(missingQueue.stdout).toContain("fix: the queue does not exist");
  });
});
