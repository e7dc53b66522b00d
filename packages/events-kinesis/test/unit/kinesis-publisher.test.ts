// Partial failures and throttling of PutRecords, with aws-sdk-client-mock. No emulator produces
// them: moto never answers a record with ProvisionedThroughputExceededException or InternalFailure,
// and LocalStack only throttles whole requests. The mock plays a stream that stores what it accepts,
// so the tests can check that nothing is lost or stored twice.

import { KinesisClient, PutRecordsCommand, type PutRecordsCommandInput, type PutRecordsResultEntry } from "@aws-sdk/client-kinesis";
import { createEvent, type DomainEvent, silentLogger } from "@kaireon/events-core";
import { sampleDecision } from "@kaireon/events-testkit";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { createKinesisPublisher, type KinesisOptions, kinesisOptions } from "../../src/index.js";

type Verdict = string | undefined; // an ErrorCode, or undefined = accepted

/** A fake stream: `decide(id, attempt)` says what happens to each record; accepted records are stored in order. */
function fakeStream(decide: (id: string, attempt: number) => Verdict) {
  const client = new KinesisClient({ region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const mock = mockClient(client);
  const stored: DomainEvent[] = [];
  const requests: string[][] = [];
  const attempts = new Map<string, number>();
  let sequence = 0;
  mock.on(PutRecordsCommand).callsFake(async (input: PutRecordsCommandInput) => {
    const events = (input.Records ?? []).map((r) => JSON.parse(new TextDecoder().decode(r.Data)) as DomainEvent);
    requests.push(events.map((e) => e.data.recommendationId as string));
    await new Promise((r) => setTimeout(r, 2));
    let failed = 0;
    const Records: PutRecordsResultEntry[] = events.map((event) => {
      const attempt = (attempts.get(event.id) ?? 0) + 1;
      attempts.set(event.id, attempt);
      const code = decide(event.data.recommendationId as string, attempt);
      if (code) {
        failed++;
        return { ErrorCode: code, ErrorMessage: `simulated ${code}` };
      }
      stored.push(event);
      return { ShardId: "shardId-000000000000", SequenceNumber: String(++sequence) };
    });
    return { FailedRecordCount: failed, Records };
  });
  return { client, mock, stored, requests, attempts };
}

const clients: KinesisClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

function options(overrides: Partial<KinesisOptions> = {}): KinesisOptions {
  return kinesisOptions({ stream: "events", retryBaseMs: 1, retryMaxMs: 5, ...overrides });
}

function events(keys: string[]): DomainEvent[] {
  return keys.map((spec) => {
    const customerId = spec.split("#")[0] as string;
    return createEvent("decision.made.v1", sampleDecision({ customerId, recommendationId: spec, tenantId: "t" })) as DomainEvent;
  });
}

describe("PutRecords partial failures (aws-sdk-client-mock: no emulator produces them)", () => {
  it("retries only the failed records, in order; nothing is lost or duplicated", async () => {
    const failOnce = new Map([
      ["c1#1", "ProvisionedThroughputExceededException"],
      ["c3#3", "ProvisionedThroughputExceededException"],
      ["c5#5", "InternalFailure"],
    ]);
    const stream = fakeStream((id, attempt) => (attempt === 1 ? failOnce.get(id) : undefined));
    clients.push(stream.client);
    const p = createKinesisPublisher({ ...options(), client: stream.client, logger: silentLogger });
    const batch = events(Array.from({ length: 10 }, (_, i) => `c${i}#${i}`));
    const results = await Promise.all(batch.map((e) => p.publishEvent(e)));
    expect(results.map((r) => r.status)).toEqual(batch.map(() => "published"));
    expect(stream.requests).toEqual([batch.map((e) => e.data.recommendationId), ["c1#1", "c3#3", "c5#5"]]);
    expect(stream.stored.map((e) => e.id).sort()).toEqual(batch.map((e) => e.id).sort());
    expect(p.metrics()).toMatchObject({ published: 10, failed: 0 });
    await p.close();
  });

  it("throttling that outlasts KINESIS_MAX_ATTEMPTS fails only those records, with a coded error", async () => {
    const stream = fakeStream((id) => (id.startsWith("hot#") ? "ProvisionedThroughputExceededException" : undefined));
    clients.push(stream.client);
    const p = createKinesisPublisher({ ...options({ maxAttempts: 3 }), client: stream.client, logger: silentLogger });
    const batch = events(["hot#1", "a#2", "b#3", "hot#4"]);
    const results = await p.publishBatch(batch);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled", "fulfilled", "rejected"]);
    const reason = (results[0] as PromiseRejectedResult).reason;
    expect(reason).toMatchObject({ code: "PUBLISH_FAILED", details: { errorCode: "ProvisionedThroughputExceededException", attempts: 3 } });
    expect(reason.message).toMatch(/^\[kinesis\] .*ProvisionedThroughputExceededException.*KINESIS_MAX_ATTEMPTS/);
    expect(stream.requests).toEqual([
      ["hot#1", "a#2", "b#3", "hot#4"],
      ["hot#1", "hot#4"],
      ["hot#1", "hot#4"],
    ]);
    expect(stream.stored.map((e) => e.data.recommendationId)).toEqual(["a#2", "b#3"]);
    expect(p.metrics()).toMatchObject({ published: 2, failed: 2, failures: { PUBLISH_FAILED: 2 } });
    await p.close();
  });

  it("does not retry a record rejected with a non-retryable ErrorCode", async () => {
    const stream = fakeStream((id) => (id === "x#1" ? "KMSAccessDeniedException" : undefined));
    clients.push(stream.client);
    const p = createKinesisPublisher({ ...options(), client: stream.client, logger: silentLogger });
    const results = await p.publishBatch(events(["x#1", "y#2"]));
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    expect(stream.requests).toHaveLength(1);
    await p.close();
  });

  it("a whole request that fails becomes a coded error naming what to check", async () => {
    const client = new KinesisClient({ region: "us-east-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
    clients.push(client);
    const mock = mockClient(client);
    mock.on(PutRecordsCommand).rejects(Object.assign(new Error("Stream events not found"), { name: "ResourceNotFoundException" }));
    const p = createKinesisPublisher({ ...options(), client, logger: silentLogger });
    const error = await p.publish("decision.made.v1", sampleDecision()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PUBLISH_FAILED", backend: "kinesis" });
    expect((error as Error).message).toContain("KINESIS_STREAM");
    mock.on(PutRecordsCommand).rejects(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    await expect(p.publish("decision.made.v1", sampleDecision())).rejects.toMatchObject({ code: "CONNECTION_FAILED" });
    await p.close();
  });

  it("rejects an event over the record limit before sending (EVENT_TOO_LARGE)", async () => {
    const stream = fakeStream(() => undefined);
    clients.push(stream.client);
    const p = createKinesisPublisher({ ...options({ maxRecordBytes: 600 }), client: stream.client, logger: silentLogger });
    const long = "x".repeat(250);
    const error = await p.publish("decision.made.v1", sampleDecision({ decisionFlowKey: long })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "EVENT_TOO_LARGE" });
    expect((error as Error).message).toContain("KINESIS_MAX_RECORD_BYTES");
    expect(stream.requests).toHaveLength(0);
    await p.close();
  });

  it("splits a batch by KINESIS_MAX_REQUEST_BYTES and 500 records", async () => {
    const stream = fakeStream(() => undefined);
    clients.push(stream.client);
    const p = createKinesisPublisher({ ...options({ maxRequestBytes: 20_000 }), client: stream.client, logger: silentLogger });
    const batch = events(Array.from({ length: 200 }, (_, i) => `c${i}#${i}`));
    await p.publishBatch(batch);
    const size = JSON.stringify(batch[0]).length;
    for (const request of stream.requests) expect(request.length * size).toBeLessThanOrEqual(20_000 * 1.1);
    expect(stream.requests.length).toBeGreaterThan(1);
    expect(stream.requests.flat()).toHaveLength(200);
    await p.close();
  });
});

/** Deterministic "random": the same record and attempt always get the same verdict. */
function throttled(id: string, attempt: number, percent: number): boolean {
  let h = 2166136261;
  for (const c of `${id}/${attempt}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return (h >>> 0) % 100 < percent;
}

describe("heavy throttling", () => {
  it("1,000 events with 40% of attempts throttled: each retry carries only failed records; every event stored exactly once", async () => {
    const stream = fakeStream((id, attempt) =>
      attempt < 6 && throttled(id, attempt, 40) ? (attempt % 2 ? "ProvisionedThroughputExceededException" : "InternalFailure") : undefined,
    );
    clients.push(stream.client);
    const p = createKinesisPublisher({ ...options({ maxAttempts: 6 }), client: stream.client, logger: silentLogger });
    const batch = events(Array.from({ length: 1000 }, (_, i) => `c${i % 37}#${i}`));
    const results = await Promise.all(batch.map((e) => p.publishEvent(e)));
    expect(results.every((r) => r.status === "published")).toBe(true);
    const storedIds = stream.stored.map((e) => e.id);
    expect(storedIds).toHaveLength(1000);
    expect(new Set(storedIds)).toEqual(new Set(batch.map((e) => e.id)));
    // Every record was sent once more than it was rejected: nothing that succeeded was sent again.
    const sent = stream.requests.flat();
    expect(sent.length).toBe(1000 + [...stream.attempts.values()].reduce((n, a) => n + a - 1, 0));
    expect(stream.requests.length).toBeGreaterThan(2);
    await p.close();
  });

  it("strict mode under the same throttling: every key's events stored in publish order, exactly once", async () => {
    const stream = fakeStream((id, attempt) =>
      attempt < 6 && throttled(id, attempt, 40) ? "ProvisionedThroughputExceededException" : undefined,
    );
    clients.push(stream.client);
    const p = createKinesisPublisher({ ...options({ ordering: "strict", maxAttempts: 6 }), client: stream.client, logger: silentLogger });
    const batch = events(Array.from({ length: 300 }, (_, i) => `c${i % 10}#${i}`));
    const results = await Promise.all(batch.map((e) => p.publishEvent(e)));
    expect(results.every((r) => r.status === "published")).toBe(true);
    expect(stream.stored).toHaveLength(300);
    for (let k = 0; k < 10; k++) {
      const stored = stream.stored.filter((e) => e.subject === `c${k}`).map((e) => e.id);
      expect(stored).toEqual(batch.filter((e) => e.subject === `c${k}`).map((e) => e.id));
    }
    await p.close();
  });
});

describe("ordering", () => {
  it("default mode: a retried record lands after a later record of its key — why it promises no per-key order", async () => {
    const stream = fakeStream((id, attempt) => (id === "a#1" && attempt === 1 ? "ProvisionedThroughputExceededException" : undefined));
    clients.push(stream.client);
    const p = createKinesisPublisher({ ...options(), client: stream.client, logger: silentLogger });
    await p.publishBatch(events(["a#1", "a#2"]));
    expect(stream.stored.map((e) => e.data.recommendationId)).toEqual(["a#2", "a#1"]);
    await p.close();
  });

  it("strict mode: a key has one record in flight; a failed record blocks later ones of its key until it succeeds", async () => {
    const stream = fakeStream((id, attempt) => (id === "a#1" && attempt <= 2 ? "ProvisionedThroughputExceededException" : undefined));
    clients.push(stream.client);
    const p = createKinesisPublisher({ ...options({ ordering: "strict", maxInFlight: 4 }), client: stream.client, logger: silentLogger });
    const batch = events(["a#1", "a#2", "b#1", "a#3", "b#2", "c#1"]);
    const results = await Promise.all(batch.map((e) => p.publishEvent(e)));
    expect(results.every((r) => r.status === "published")).toBe(true);
    for (const request of stream.requests) expect(new Set(request.map((id) => id.split("#")[0])).size).toBe(request.length);
    expect(stream.requests[0]).toEqual(["a#1", "b#1", "c#1"]);
    // a#2 is not sent before a#1 (retried twice) has landed.
    const firstA2 = stream.requests.findIndex((r) => r.includes("a#2"));
    const lastA1 = stream.requests.map((r) => r.includes("a#1")).lastIndexOf(true);
    expect(firstA2).toBeGreaterThan(lastA1);
    const order = (key: string) => stream.stored.filter((e) => e.subject === key).map((e) => e.data.recommendationId);
    expect(order("a")).toEqual(["a#1", "a#2", "a#3"]);
    expect(order("b")).toEqual(["b#1", "b#2"]);
    expect(stream.stored).toHaveLength(6);
    await p.close();
  });

  it("strict mode: a record that fails for good fails the queued records of its key unsent, so a retry keeps their order", async () => {
    const stream = fakeStream((id) => (id === "a#1" ? "ProvisionedThroughputExceededException" : undefined));
    clients.push(stream.client);
    const p = createKinesisPublisher({ ...options({ ordering: "strict", maxAttempts: 2 }), client: stream.client, logger: silentLogger });
    const results = await p.publishBatch(events(["a#1", "a#2", "a#3"]));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: "PUBLISH_FAILED", details: { sent: false } });
    expect(stream.requests).toEqual([["a#1"], ["a#1"]]);
    expect(stream.stored).toEqual([]);
    await p.close();
  });
});
