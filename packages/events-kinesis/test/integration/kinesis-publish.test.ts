// Batching, the HTTP/1.1 handler and replay against moto: request counts come from an SDK middleware
// that sees every HTTP attempt, so SDK-level retries would be counted too.

import { KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import { createEvent, type DomainEvent, loadPublisher, loadSubscriber, silentLogger } from "@kaireon/events-core";
import { createEventSpy, sampleDecision, sampleInteraction, uniqueTenant } from "@kaireon/events-testkit";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKinesisPublisher, createKinesisSubscriber, type KinesisPublisher, type KinesisSubscriber } from "../../src/index.js";
import { countingClient, createStream, motoEndpoint, quiet, testOptions } from "./moto.js";

let endpoint: string;
let stream: string;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  endpoint = await motoEndpoint();
  const { client } = countingClient(endpoint);
  stream = await createStream(client, "publish", 4);
  client.destroy();
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
});

function publisher(overrides = {}): { publisher: KinesisPublisher; calls: Map<string, number> } {
  const { client, calls } = countingClient(endpoint);
  const p = createKinesisPublisher({ ...testOptions(endpoint, stream, overrides), client, ...quiet });
  closers.push(async () => {
    await p.close();
    client.destroy();
  });
  return { publisher: p, calls };
}

function subscriber(): KinesisSubscriber {
  const s = createKinesisSubscriber({ ...testOptions(endpoint, stream), ...quiet });
  closers.push(() => s.close());
  return s;
}

describe("kinesis publisher against moto", () => {
  it("an endpoint override gets a plain HTTP/1.1 handler; the SDK's default HTTP/2 handler cannot talk to the emulator", async () => {
    const { publisher: p } = publisher();
    expect(p.client.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
    expect(await p.ready()).toMatchObject({ ready: true });
    const http2 = new KinesisClient({ endpoint, maxAttempts: 1 });
    try {
      const error = await http2
        .send(new ListShardsCommand({ StreamName: stream }), { abortSignal: AbortSignal.timeout(5000) as never })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error, "the default HTTP/2 client unexpectedly worked against the emulator").toBeInstanceOf(Error);
    } finally {
      http2.destroy();
    }
  });

  it("5,000 concurrent publishes cost at most 10 PutRecords requests, and every event is stored once", async () => {
    const tenantId = uniqueTenant("load");
    const { publisher: p, calls } = publisher();
    const results = await Promise.all(
      Array.from({ length: 5000 }, (_, i) =>
        p.publish("decision.made.v1", sampleDecision({ tenantId, customerId: `c${i % 97}`, recommendationId: `r${i}` })),
      ),
    );
    expect(results.every((r) => r.status === "published")).toBe(true);
    expect(calls.get("PutRecordsCommand")).toBeLessThanOrEqual(10);
    expect(calls.get("PutRecordCommand") ?? 0).toBe(0);
    expect(p.metrics()).toMatchObject({ published: 5000, failed: 0, pending: 0 });

    const spy = createEventSpy();
    const s = subscriber();
    await s.subscribe(["decision.made.v1"], spy.handler, { from: "earliest", onError: spy.onError, group: tenantId });
    const received = await spy.waitForCount(5000, (e) => e.tenantid === tenantId, 60_000);
    expect(new Set(received.map((e) => e.id)).size).toBe(5000);
    expect(new Set(received.map((e) => e.id))).toEqual(new Set(results.map((r) => r.id)));
  });

  it("rejects an event over KINESIS_MAX_RECORD_BYTES before sending", async () => {
    const { publisher: p, calls } = publisher({ maxRecordBytes: 1024 });
    const long = "x".repeat(250);
    const big = sampleDecision({ tenantId: uniqueTenant(), customerId: long, recommendationId: long, decisionFlowKey: long });
    await expect(p.publish("decision.made.v1", big)).rejects.toMatchObject({ code: "EVENT_TOO_LARGE" });
    expect(calls.get("PutRecordsCommand") ?? 0).toBe(0);
  });

  it("a key over 256 characters is hashed down and still published and read back", async () => {
    const tenantId = `${uniqueTenant()}-${"t".repeat(100)}`;
    const { publisher: p } = publisher();
    const customerId = `c-${"k".repeat(200)}`;
    const result = await p.publish("interaction.recorded.v1", sampleInteraction({ tenantId, customerId }));
    const spy = createEventSpy();
    await subscriber().subscribe(["interaction.recorded.v1"], spy.handler, { from: "earliest", onError: spy.onError, group: tenantId });
    const got = await spy.waitFor("interaction.recorded.v1", (e) => e.id === result.id, 20_000);
    expect(got.partitionkey).toBe(`${tenantId}:${customerId}`);
  });
});

describe("from the environment", () => {
  it("EVENT_PUBLISHER=kinesis with KINESIS_STREAM and AWS_ENDPOINT_URL publishes and reads back through the loader", async () => {
    const env = { EVENT_PUBLISHER: "kinesis", KINESIS_STREAM: stream, AWS_ENDPOINT_URL: endpoint, KINESIS_POLL_INTERVAL_MS: "200" };
    const options = { logger: silentLogger, resolveFrom: new URL("../../package.json", import.meta.url) };
    const p = await loadPublisher(env, options);
    const s = await loadSubscriber(env, options);
    closers.push(async () => {
      await p.close();
      await s.close();
    });
    expect(p.backend).toBe("kinesis");
    expect(await p.ready()).toMatchObject({ ready: true });
    const spy = createEventSpy();
    await s.subscribe(["decision.made.v1"], spy.handler, { onError: spy.onError });
    const tenantId = uniqueTenant();
    const result = await p.publish("decision.made.v1", sampleDecision({ tenantId }));
    expect(result.position).toMatch(/^shardId-\d+:\d+$/);
    await spy.waitFor("decision.made.v1", (e) => e.id === result.id, 20_000);
  });
});

describe("replay over every shard", () => {
  it("TRIM_HORIZON receives every event published so far; a timestamp receives exactly those at or after it", async () => {
    const tenantId = uniqueTenant("replay");
    const { publisher: p } = publisher();
    const make = (phase: string, i: number): DomainEvent =>
      createEvent("interaction.recorded.v1", sampleInteraction({ tenantId, customerId: `c${i % 23}`, offerId: `${phase}-${i}` }));
    const before = Array.from({ length: 150 }, (_, i) => make("before", i));
    expect((await p.publishBatch(before)).every((r) => r.status === "fulfilled")).toBe(true);
    await new Promise((r) => setTimeout(r, 1100));
    const since = new Date();
    const after = Array.from({ length: 150 }, (_, i) => make("after", i));
    expect((await p.publishBatch(after)).every((r) => r.status === "fulfilled")).toBe(true);

    // The events landed on more than one shard, so the readers had to follow several.
    const { client } = countingClient(endpoint);
    const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
    client.destroy();
    expect(shards.length).toBe(4);

    const all = createEventSpy();
    const fromTime = createEventSpy();
    const s = subscriber();
    await s.subscribe(["interaction.recorded.v1"], all.handler, { from: "earliest", onError: all.onError, group: `${tenantId}-all` });
    await s.subscribe(["interaction.recorded.v1"], fromTime.handler, { from: since, onError: fromTime.onError, group: `${tenantId}-t` });
    const everything = await all.waitForCount(300, (e) => e.tenantid === tenantId, 30_000);
    await fromTime.waitForCount(150, (e) => e.tenantid === tenantId, 30_000);
    await new Promise((r) => setTimeout(r, 1000)); // anything extra would arrive within a few polls
    expect(new Set(everything.map((e) => e.id))).toEqual(new Set([...before, ...after].map((e) => e.id)));
    const mine = fromTime.events.filter((e) => e.tenantid === tenantId);
    expect(mine.map((e) => e.id).sort()).toEqual(after.map((e) => e.id).sort());
    expect(new Set(all.contexts.map((c) => c.position?.split(":")[0])).size).toBeGreaterThan(1);
    // Within one key, the reader hands events over in publish order.
    for (let k = 0; k < 23; k++) {
      const seq = everything.filter((e) => e.subject === `c${k}`).map((e) => e.id);
      expect(seq).toEqual([...before, ...after].filter((e) => e.subject === `c${k}`).map((e) => e.id));
    }
  });
});
