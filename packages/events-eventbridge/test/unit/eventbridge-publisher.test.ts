// PutEvents failure paths with aws-sdk-client-mock. No emulator produces them — moto answers every
// valid entry with success and never throttles — so these answers are scripted here: partial
// failures, per-entry and whole-request throttling, exhausted retries, a 200 without per-entry
// results, and oversize events. Each test checks that only failed entries are re-sent and that no
// event is lost or sent twice.

import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry, type PutEventsResultEntry } from "@aws-sdk/client-eventbridge";
import { ConnectionError, createEvent, type DomainEvent, EventsError, silentLogger } from "@kaireon/events-core";
import { sampleDecision, sampleInteraction } from "@kaireon/events-testkit";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import {
  createEventBridgePublisher,
  type EventBridgePublisher,
  type EventBridgePublisherOptions,
  entrySize,
  toPutEventsEntry,
} from "../../src/index.js";

const idOf = (entry: PutEventsRequestEntry) => (JSON.parse(entry.Detail ?? "{}") as { id: string }).id;

function setup(
  respond: (entries: PutEventsRequestEntry[], call: number) => PutEventsResultEntry[] | Promise<PutEventsResultEntry[]>,
  options: EventBridgePublisherOptions = {},
) {
  const client = new EventBridgeClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
  const mock = mockClient(client);
  const calls: PutEventsRequestEntry[][] = [];
  const delays: number[] = [];
  mock.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
    calls.push(input.Entries);
    const entries = await respond(input.Entries, calls.length);
    return { FailedEntryCount: entries.filter((e) => e.ErrorCode).length, Entries: entries };
  });
  const publisher = createEventBridgePublisher({
    client,
    logger: silentLogger,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...options,
  });
  opened.push(publisher);
  return { publisher, calls, delays, mock };
}

const opened: EventBridgePublisher[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()));
});

let eventIds = 0;
const ok = (): PutEventsResultEntry => ({ EventId: `eb-${++eventIds}` });
const fail = (code: string): PutEventsResultEntry => ({ ErrorCode: code, ErrorMessage: `${code} (scripted)` });

function events(n: number): DomainEvent[] {
  return Array.from({ length: n }, (_, i) =>
    i % 2
      ? createEvent("decision.made.v1", sampleDecision({ recommendationId: `r${i}` }))
      : createEvent("interaction.recorded.v1", sampleInteraction({ offerId: `o${i}` })),
  );
}

/** Every event id accepted (answered with an EventId) across all calls, with repeats. */
function acceptedIds(calls: PutEventsRequestEntry[][], answers: PutEventsResultEntry[][]): string[] {
  return calls.flatMap((entries, c) => entries.filter((_, i) => answers[c]?.[i]?.EventId).map(idOf));
}

describe("EventBridgePublisher partial failures (scripted with aws-sdk-client-mock)", () => {
  it("retries only the entries that failed with InternalFailure; nothing lost, nothing accepted twice", async () => {
    const answers: PutEventsResultEntry[][] = [];
    const { publisher, calls } = setup((entries, call) => {
      const answer = call === 1 ? entries.map((_, i) => (i === 1 || i === 3 ? fail("InternalFailure") : ok())) : entries.map(ok);
      answers.push(answer);
      return answer;
    });
    const sent = events(5);
    const results = await Promise.all(sent.map((e) => publisher.publishEvent(e)));
    expect(calls.map((c) => c.length)).toEqual([5, 2]);
    expect(calls[1]?.map(idOf)).toEqual([sent[1]?.id, sent[3]?.id]);
    expect(results.map((r) => r.id)).toEqual(sent.map((e) => e.id));
    expect(new Set(results.map((r) => r.position)).size).toBe(5);
    expect(acceptedIds(calls, answers).sort()).toEqual(sent.map((e) => e.id).sort());
    expect(publisher.metrics()).toMatchObject({ published: 5, failed: 0 });
  });

  it("backs off on ThrottlingException entries with jitter and succeeds within the bound", async () => {
    const { publisher, calls, delays } = setup((entries, call) => entries.map(() => (call < 3 ? fail("ThrottlingException") : ok())), {
      maxAttempts: 4,
    });
    const result = await publisher.publish("decision.made.v1", sampleDecision());
    expect(result.status).toBe("published");
    expect(calls).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeLessThan(100); // full jitter: random(0, 100·2^0)
    expect(delays[1]).toBeLessThan(200);
  });

  it("a throttled request (thrown ThrottlingException) is retried whole", async () => {
    const { publisher, calls } = setup((entries, call) => {
      if (call === 1) throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 400 } });
      return entries.map(ok);
    });
    const sent = events(3);
    const results = await Promise.all(sent.map((e) => publisher.publishEvent(e)));
    expect(results.every((r) => r.status === "published")).toBe(true);
    expect(calls.map((c) => c.length)).toEqual([3, 3]);
    expect(calls[1]?.map(idOf)).toEqual(sent.map((e) => e.id)); // the throttled call accepted nothing, so all three go once more
  });

  it("stops after EVENTBRIDGE_MAX_ATTEMPTS and reports each still-failing event; the rest succeed", async () => {
    const { publisher, calls } = setup((entries) => entries.map((e) => (idOf(e) === doomed ? fail("InternalFailure") : ok())), {
      maxAttempts: 3,
    });
    const sent = events(3);
    const doomed = sent[2]?.id;
    const settled = await publisher.publishBatch(sent);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
    const error = (settled[2] as PromiseRejectedResult).reason as EventsError;
    expect(error.code).toBe("PUBLISH_FAILED");
    expect(error.details).toMatchObject({ awsError: "InternalFailure", attempts: 3 });
    expect(error.message).toContain("EVENTBRIDGE_MAX_ATTEMPTS");
    expect(calls.map((c) => c.length)).toEqual([3, 1, 1]);
    expect(publisher.metrics().failures).toEqual({ PUBLISH_FAILED: 1 });
  });

  it("does not retry an entry error that cannot succeed on retry", async () => {
    const { publisher, calls } = setup((entries) => entries.map((_, i) => (i === 0 ? fail("MalformedDetail") : ok())));
    const settled = await publisher.publishBatch(events(2));
    expect(settled.map((s) => s.status)).toEqual(["rejected", "fulfilled"]);
    expect(((settled[0] as PromiseRejectedResult).reason as EventsError).details).toMatchObject({
      awsError: "MalformedDetail",
      retryable: false,
    });
    expect(calls).toHaveLength(1);
  });

  it("an entry refused for authorisation is AUTH_FAILED, a ConnectionError as on every backend", async () => {
    const { publisher } = setup((entries) => entries.map(() => fail("NotAuthorizedForSourceException")));
    const error = await publisher.publish("decision.made.v1", sampleDecision()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "AUTH_FAILED" });
    expect(error).toBeInstanceOf(ConnectionError);
  });

  it("a request refused for authorisation is AUTH_FAILED, a ConnectionError as on every backend", async () => {
    const { publisher } = setup(() => {
      throw Object.assign(new Error("denied"), { name: "AccessDeniedException", $metadata: { httpStatusCode: 400 } });
    });
    const error = await publisher.publish("decision.made.v1", sampleDecision()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "AUTH_FAILED" });
    expect(error).toBeInstanceOf(ConnectionError);
  });

  it("never takes HTTP 200 as success for every entry: an entry without EventId is not published", async () => {
    const { publisher, calls } = setup((entries) => entries.map((_, i) => (i === 0 ? {} : ok())));
    const settled = await publisher.publishBatch(events(2));
    expect(settled.map((s) => s.status)).toEqual(["rejected", "fulfilled"]);
    expect(((settled[0] as PromiseRejectedResult).reason as EventsError).details).toMatchObject({ sent: "unknown" });
    expect(calls).toHaveLength(1);
  });

  it("connection refused is retried (the request never left) and ends as CONNECTION_FAILED", async () => {
    const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    const { publisher, calls } = setup(
      () => {
        throw refused();
      },
      { maxAttempts: 3 },
    );
    const error = await publisher.publish("decision.made.v1", sampleDecision()).catch((e: unknown) => e);
    expect(EventsError.isInstance(error) && error.code).toBe("CONNECTION_FAILED");
    expect((error as EventsError).details).toMatchObject({ sent: false });
    expect(calls).toHaveLength(3);
  });

  it("a request that timed out is not re-sent (it may have landed; PutEvents has no idempotency key)", async () => {
    const { publisher, calls } = setup(() => {
      throw Object.assign(new Error("socket hang up"), { name: "TimeoutError", code: "ECONNRESET" });
    });
    const error = await publisher.publish("decision.made.v1", sampleDecision()).catch((e: unknown) => e);
    expect((error as EventsError).code).toBe("CONNECTION_FAILED");
    expect((error as EventsError).details).toMatchObject({ sent: "unknown" });
    expect(calls).toHaveLength(1);
  });

  it("every publish settles by EVENTBRIDGE_PUBLISH_TIMEOUT_MS even when AWS never answers", async () => {
    const { publisher } = setup(() => new Promise<never>(() => {}), { publishTimeoutMs: 200 });
    await expect(publisher.publish("decision.made.v1", sampleDecision())).rejects.toMatchObject({ code: "PUBLISH_TIMEOUT" });
  });
});

describe("EventBridgePublisher batching and size (scripted with aws-sdk-client-mock)", () => {
  it("gathers concurrent publishes into calls of at most 10 entries", async () => {
    const { publisher, calls } = setup((entries) => entries.map(ok), { maxInFlight: 1 });
    await Promise.all(events(25).map((e) => publisher.publishEvent(e)));
    expect(calls.map((c) => c.length)).toEqual([10, 10, 5]);
  });

  it("1,000 concurrent publishes with the default settings make exactly 100 full calls", async () => {
    const { publisher, calls } = setup((entries) => entries.map(ok));
    const results = await Promise.all(events(1000).map((e) => publisher.publishEvent(e)));
    expect(calls).toHaveLength(100);
    expect(calls.every((c) => c.length === 10)).toBe(true);
    expect(new Set(calls.flat().map(idOf))).toEqual(new Set(results.map((r) => r.id)));
  });

  it("splits by the byte budget measured the way AWS measures entries", async () => {
    // Payload fields are length-bounded by the topic schemas; an envelope source is not, so it makes the bulk.
    const big = (n: number) => createEvent("decision.made.v1", sampleDecision(), { source: "x".repeat(n) });
    const sent = [big(100_000), big(100_000), big(100_000)];
    const { publisher, calls } = setup((entries) => entries.map(ok), { maxInFlight: 1, source: "kaireon" });
    await Promise.all(sent.map((e) => publisher.publishEvent(e)));
    expect(calls.map((c) => c.length)).toEqual([2, 1]);
    for (const call of calls) expect(call.reduce((n, e) => n + entrySize(e), 0)).toBeLessThanOrEqual(256 * 1024);
  });

  it("rejects an oversize event with EVENT_TOO_LARGE before sending; its neighbours still go", async () => {
    const { publisher, calls } = setup((entries) => entries.map(ok), { source: "kaireon" });
    const tooBig = createEvent("decision.made.v1", sampleDecision(), { source: "é".repeat(132_000) }); // 264,000 bytes of UTF-8 (> 262,144) in 132,000 characters
    const fine = createEvent("decision.made.v1", sampleDecision());
    const settled = await publisher.publishBatch([tooBig, fine]);
    const error = (settled[0] as PromiseRejectedResult).reason as EventsError;
    expect(error.code).toBe("EVENT_TOO_LARGE");
    expect(error.message).toContain("EVENTBRIDGE_MAX_ENTRY_BYTES");
    expect(error.details).toMatchObject({ limit: 256 * 1024, sent: false });
    expect(settled[1]?.status).toBe("fulfilled");
    expect(calls.flat().map(idOf)).toEqual([fine.id]);
  });

  it("accepts the same event once the limit is raised to 1 MB", async () => {
    const { publisher, calls } = setup((entries) => entries.map(ok), { maxEntryBytes: 1024 * 1024, source: "kaireon" });
    const event = createEvent("decision.made.v1", sampleDecision(), { source: "é".repeat(132_000) });
    await expect(publisher.publishEvent(event)).resolves.toMatchObject({ status: "published" });
    expect(calls).toHaveLength(1);
  });

  it("maps the envelope: Source, DetailType = topic, Detail = whole envelope, Time, TraceHeader, bus", async () => {
    const { publisher, calls } = setup((entries) => entries.map(ok), { bus: "orders", source: "com.example.kaireon" });
    const event = createEvent("interaction.recorded.v1", sampleInteraction(), {
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
      time: "2026-03-01T12:00:00.250Z",
    });
    await publisher.publishEvent(event);
    const entry = calls[0]?.[0];
    expect(entry).toMatchObject({
      EventBusName: "orders",
      Source: "com.example.kaireon",
      DetailType: "interaction.recorded.v1",
      TraceHeader: "Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=0",
    });
    expect(JSON.parse(entry?.Detail ?? "")).toEqual({ ...event });
    expect((entry?.Time as Date | undefined)?.toISOString()).toBe("2026-03-01T12:00:00.250Z");
  });

  it("refuses an `aws.` Source before sending", async () => {
    const { publisher, calls } = setup((entries) => entries.map(ok));
    const event = createEvent("decision.made.v1", sampleDecision(), { source: "aws.kaireon" });
    await expect(publisher.publishEvent(event)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    expect(calls).toHaveLength(0);
  });

  it("the SDK's own retries are off, so EVENTBRIDGE_MAX_ATTEMPTS is the only retry bound", async () => {
    const publisher = createEventBridgePublisher({ region: "us-east-1", logger: silentLogger });
    opened.push(publisher);
    expect(await publisher.client.config.maxAttempts()).toBe(1);
    expect(toPutEventsEntry(createEvent("decision.made.v1", sampleDecision()), "default", undefined).TraceHeader).toBeUndefined();
  });

  it("(options, context): `source` in the context is the CloudEvents source, `entrySource` the PutEvents Source; the one-argument form still works", async () => {
    const client = new EventBridgeClient({ region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    const calls: PutEventsRequestEntry[][] = [];
    mockClient(client)
      .on(PutEventsCommand)
      .callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
        calls.push(input.Entries);
        return { FailedEntryCount: 0, Entries: input.Entries.map(ok) };
      });
    const current = createEventBridgePublisher(
      { entrySource: "orders-bus-source" },
      { source: "orders-service", client, logger: silentLogger },
    );
    const legacy = createEventBridgePublisher({ source: "orders-bus-source", eventSource: "orders-service", client, logger: silentLogger });
    opened.push(current, legacy);
    for (const publisher of [current, legacy]) await publisher.publish("decision.made.v1", sampleDecision());
    for (const [entry] of calls) {
      expect(entry?.Source).toBe("orders-bus-source");
      expect(JSON.parse(entry?.Detail ?? "{}")).toMatchObject({ source: "orders-service" });
    }
    expect(calls).toHaveLength(2);
  });
});
