// kaireon-events against the shared Kafka broker: publish (valid, invalid), tail from earliest,
// check (working, missing topics, wrong SASL password, unreachable broker), replay Kafka → Redis Streams.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTopics, kafkaOptionsFromEnv } from "@kaireon/events-kafka";
import { requireService, sampleDecision, sampleInteraction, uniqueTenant } from "@kaireon/events-testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, ndjson, runCli, unique } from "../support/cli.js";

let brokers: string;
let prefix: string;
const dir = mkdtempSync(join(tmpdir(), "kaireon-cli-kafka-"));
const lines = (...values: unknown[]) => `${values.map((v) => JSON.stringify(v)).join("\n")}\n`;
const env = (extra: Record<string, string> = {}) =>
  cliEnv({ EVENT_PUBLISHER: "kafka", KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: prefix, ...extra });

beforeAll(async () => {
  brokers = await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  prefix = `${unique("cli")}.`;
  const { silentLogger } = await import("@kaireon/events-core");
  await ensureTopics(kafkaOptionsFromEnv({ KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: prefix }), { partitions: 2, logger: silentLogger });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("publish and tail on Kafka", () => {
  it("publishes, tails them back from earliest with a group of its own", async () => {
    const tenantId = uniqueTenant();
    const pub = await runCli(["publish", "decision.made.v1"], {
      env: env(),
      input: lines(sampleDecision({ tenantId }), sampleDecision({ tenantId, customerId: "c-2" })),
    });
    // kafkajs's own start-up warnings (partitioner, idempotent retries) pass through the kafka package at warn level.
    expect(pub.stderr).not.toMatch(/^error:/m);
    expect(pub.code).toBe(0);
    const out = ndjson<{ id: string; position: string }>(pub.stdout);
    // The kafka publisher does not report partition:offset in its PublishResult (yet), so there is no position to print.
    expect(out).toHaveLength(2);
    const tail = await runCli(["tail", "decision.made.v1", "--from", "earliest", "--count", "2", "--tenant", tenantId], {
      env: env(),
      timeoutMs: 60_000,
    });
    expect(tail.code).toBe(0);
    expect(new Set(ndjson<{ id: string }>(tail.stdout).map((e) => e.id))).toEqual(new Set(out.map((o) => o.id)));
    expect(tail.stderr).toMatch(/tail: listening to decision\.made\.v1 on kafka \(group kaireon-events-tail-/);
  });

  it("an invalid line: exit 2 and nothing is sent", async () => {
    const tenantId = uniqueTenant();
    const pub = await runCli(["publish", "decision.made.v1"], {
      env: env(),
      input: lines(sampleDecision({ tenantId }), sampleDecision({ tenantId, topPropensity: 7 })),
    });
    expect(pub.code).toBe(2);
    expect(pub.stderr).toContain("line 2: data.topPropensity:");
    // Nothing of tenantId reached the topic: a marker event published after it is the first the tail sees.
    const marker = uniqueTenant("marker");
    await runCli(["publish", "decision.made.v1"], { env: env(), input: lines(sampleDecision({ tenantId: marker })) });
    const tail = await runCli(["tail", "--from", "earliest", "--tenant", tenantId, "--tenant", marker, "--count", "1", "--quiet"], {
      env: env(),
      timeoutMs: 60_000,
    });
    expect(ndjson<{ tenantid: string }>(tail.stdout).map((e) => e.tenantid)).toEqual([marker]);
  });
});

describe("check on Kafka", () => {
  it("a working configuration: connected, the topics exist, exit 0", async () => {
    const r = await runCli(["check"], { env: env() });
    expect(r.stdout).toContain("ok   connected to kafka");
    expect(r.stdout).toContain(`ok   topics exist: ${prefix}interaction.recorded.v1, ${prefix}decision.made.v1`);
    expect(r.code).toBe(0);
  });

  it("missing topics: named, with the fix", async () => {
    const other = `${unique("cli-missing")}.`;
    const r = await runCli(["check"], { env: env({ KAFKA_TOPIC_PREFIX: other }) });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL topics: missing: ${other}interaction.recorded.v1, ${other}decision.made.v1`);
    expect(r.stdout).toContain("fix: create them with ensureTopics()");
  });

  it("a wrong SASL password: exit 1, the credentials named, the password never printed", async () => {
    const sasl = process.env.KAFKA_TEST_SASL_BROKERS;
    const user = process.env.KAFKA_TEST_PLAIN_USERNAME;
    expect(sasl, "KAFKA_TEST_SASL_BROKERS (tooling/services/kafka.sh)").toBeTruthy();
    const wrong = "definitely-not-the-password-5521";
    const r = await runCli(["check", "--timeout", "10000"], {
      env: env({
        KAFKA_BROKERS: sasl as string,
        KAFKA_SASL_MECHANISM: "plain",
        KAFKA_SASL_USERNAME: user as string,
        KAFKA_SASL_PASSWORD: wrong,
      }),
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("KAFKA_SASL_PASSWORD=***");
    expect(r.stdout).toMatch(/FAIL connect to kafka: .*(AUTH|SASL|uthentication)/);
    expect(r.stdout).toContain("fix: the credentials were refused — check KAFKA_SASL_MECHANISM");
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });

  it("an unreachable broker: exit 1, says what to check", async () => {
    const r = await runCli(["check", "--timeout", "5000"], {
      env: env({ KAFKA_BROKERS: "127.0.0.1:1", KAFKA_CONNECTION_TIMEOUT_MS: "500" }),
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL connect to kafka");
    expect(r.stdout).toContain("fix: the server could not be reached — check KAFKA_BROKERS");
  });

  it("KAFKA_BROKERS unset: the variable named, exit 1", async () => {
    const r = await runCli(["check"], { env: cliEnv({ EVENT_PUBLISHER: "kafka" }) });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL configuration: [kafka] invalid configuration — KAFKA_BROKERS: is required");
  });
});

describe("check on MSK (SCRAM-SHA-512 over TLS, the broker's SASL_SSL listener)", () => {
  const msk = (password: string) =>
    cliEnv({
      EVENT_PUBLISHER: "msk",
      MSK_BROKERS: process.env.KAFKA_TEST_SASL_TLS_BROKERS,
      MSK_REGION: "us-east-1",
      MSK_AUTH_MODE: "sasl_scram",
      MSK_SASL_USERNAME: process.env.KAFKA_TEST_SCRAM_USERNAME,
      MSK_SASL_PASSWORD: password,
      MSK_TLS_CA_FILE: process.env.KAFKA_TEST_TLS_CA_FILE,
      MSK_TOPIC_PREFIX: prefix,
    });

  it("working: connected over SCRAM, topics exist, the password masked; wrong password: exit 1", async () => {
    const password = process.env.KAFKA_TEST_SCRAM_PASSWORD as string;
    expect(password, "KAFKA_TEST_SCRAM_PASSWORD (tooling/services/kafka.sh)").toBeTruthy();
    const ok = await runCli(["check"], { env: msk(password), timeoutMs: 60_000 });
    expect(ok.stdout).toContain("ok   connected to msk");
    expect(ok.stdout).toContain(`ok   topics exist: ${prefix}interaction.recorded.v1`);
    expect(ok.stdout).toContain("MSK_SASL_PASSWORD=***");
    expect(ok.stdout + ok.stderr).not.toContain(password);
    expect(ok.code).toBe(0);
    const wrong = await runCli(["check", "--timeout", "10000"], { env: msk(`${password}-wrong`), timeoutMs: 60_000 });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain("FAIL connect to msk");
    expect(wrong.stdout).toContain("fix: the credentials were refused");
    expect(wrong.stdout + wrong.stderr).not.toContain(password);
  });
});

describe("replay from Kafka", () => {
  it("a time range from Kafka into Redis Streams, ids unchanged", async () => {
    const redisUrl = await requireService({ variable: "REDIS_URL", name: "Redis" });
    const tenantId = uniqueTenant();
    const from = new Date(Date.now() - 1000).toISOString();
    const pub = await runCli(["publish", "interaction.recorded.v1"], {
      env: env(),
      input: lines(sampleInteraction({ tenantId }), sampleInteraction({ tenantId })),
    });
    expect(pub.code).toBe(0);
    const to = new Date(Date.now() + 500).toISOString();
    const target = `${unique("cli-replay")}:`;
    const envFile = join(dir, "target.env");
    writeFileSync(envFile, `EVENT_PUBLISHER=redis\nREDIS_URL=${redisUrl}\nREDIS_MODE=streams\nREDIS_CHANNEL_PREFIX=${target}\n`);
    const r = await runCli(["replay", "interaction.recorded.v1", "--from", from, "--to", to, "--target", envFile, "--idle", "4"], {
      env: env(),
      timeoutMs: 90_000,
    });
    expect(r.code).toBe(0);
    const redis = new Redis(redisUrl);
    try {
      const copied = (await redis.xrange(`${target}interaction.recorded.v1`, "-", "+")).map(([, f]) => JSON.parse(f[1] as string));
      const mine = copied.filter((e) => e.tenantid === tenantId).map((e) => e.id);
      expect(new Set(mine)).toEqual(new Set(ndjson<{ id: string }>(pub.stdout).map((o) => o.id)));
    } finally {
      redis.disconnect();
    }
  });
});
