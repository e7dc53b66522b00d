// OpenTelemetry through the memory backend, with a real SDK exporting to memory: the create, send and
// process spans (names, kinds, attributes, parent and links), the batcher's one send span per batch,
// and the metrics (names, units, attributes). The same file's last case runs without any SDK.
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ItemOutcome } from "../../src/batcher.js";
import { createEvent, type DomainEvent } from "../../src/envelope.js";
import { silentLogger } from "../../src/logger.js";
import { MemoryBus, MemoryPublisher, MemorySubscriber } from "../../src/memory-backend.js";
import type { ReadinessReport } from "../../src/ports.js";
import { type Delivery, PublisherBase } from "../../src/publisher-base.js";
import { type Inbox, SubscriberBase, type TransportSubscription } from "../../src/subscriber-base.js";
import { observeGauge, telemetryHistogram } from "../../src/telemetry.js";
import { decision, interaction } from "../fixtures.js";
import { metric, type OtelCapture, startOtel, traceparentOf } from "../otel.js";

let otel: OtelCapture;
beforeAll(() => {
  otel = startOtel();
});
afterAll(async () => {
  await otel.shutdown();
});
beforeEach(() => otel.reset());

const tracer = () => trace.getTracer("test");

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A batching backend in miniature: items carry their event; every batch is one request. */
class BatchingPublisher extends PublisherBase {
  readonly requests: DomainEvent[][] = [];
  failNext: Error | undefined;
  /** Events of this type fail alone (the rest of their batch is sent). */
  failType: string | undefined;
  private readonly batcher;
  constructor() {
    super({ backend: "kafka", logger: silentLogger });
    this.batcher = this.useBatcher<{ event: DomainEvent }, Delivery>({
      backend: "kafka",
      send: async (items) => {
        this.requests.push(items.map((i) => i.event));
        if (this.failNext) {
          const error = this.failNext;
          this.failNext = undefined;
          throw error;
        }
        return items.map(
          (i): ItemOutcome<Delivery> =>
            i.event.type === this.failType ? { ok: false, error: new Error("refused") } : { ok: true, value: {} },
        );
      },
      maxBatchSize: 100,
      lingerMs: 5,
      maxQueued: 1000,
      timeoutMs: 5000,
    });
  }
  protected deliver(event: DomainEvent): Promise<Delivery> {
    return this.batcher.add({ event });
  }
  protected override destinationOf(event: DomainEvent): string {
    return `prefix.${event.type}`;
  }
  ready(): Promise<ReadinessReport> {
    return Promise.resolve({ ready: true, backend: "kafka" });
  }
}

describe("OpenTelemetry (memory backend, in-memory SDK)", () => {
  it("create → send → process: a create span in the request's trace, its context in the envelope, a send span linked to it, a process span under it", async () => {
    const bus = new MemoryBus();
    const publisher = new MemoryPublisher({ bus, logger: silentLogger });
    const subscriber = new MemorySubscriber({ bus, logger: silentLogger });
    const handled: string[] = [];
    await subscriber.subscribe(
      ["interaction.recorded.v1"],
      async (event) => {
        tracer().startSpan("handler work").end(); // the handler's own span: a child of process
        handled.push(event.id);
      },
      { group: "billing" },
    );

    const request = tracer().startSpan("POST /api/v1/respond", { kind: SpanKind.SERVER });
    const result = await context.with(trace.setSpan(context.active(), request), () =>
      publisher.publish("interaction.recorded.v1", interaction()),
    );
    request.end();
    await until(() => handled.length === 1, "the handler");
    await until(() => otel.spans().some((s) => s.name === "process interaction.recorded.v1"), "the process span");

    const spans = otel.spans();
    const byName = (name: string) => {
      const found = spans.filter((s) => s.name === name);
      expect(found, name).toHaveLength(1);
      return found[0] as (typeof found)[0];
    };
    const create = byName("create interaction.recorded.v1");
    const send = byName("send interaction.recorded.v1");
    const process = byName("process interaction.recorded.v1");
    const work = byName("handler work");

    expect(create.kind).toBe(SpanKind.PRODUCER);
    expect(create.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(create.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(create.attributes).toMatchObject({
      "messaging.operation.type": "create",
      "messaging.operation.name": "create",
      "messaging.destination.name": "interaction.recorded.v1",
      "messaging.message.id": result.id,
    });

    expect(send.kind).toBe(SpanKind.CLIENT);
    expect(send.attributes).toMatchObject({
      "messaging.system": "memory",
      "messaging.operation.type": "send",
      "messaging.operation.name": "send",
      "messaging.destination.name": "interaction.recorded.v1",
      "messaging.batch.message_count": 1,
      "messaging.message.id": result.id,
    });
    expect(send.links.map((l) => l.context.spanId)).toEqual([create.spanContext().spanId]);

    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.attributes).toMatchObject({
      "messaging.system": "memory",
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      "messaging.destination.name": "interaction.recorded.v1",
      "messaging.consumer.group.name": "billing",
      "messaging.message.id": result.id,
    });
    expect(process.links.map((l) => l.context.spanId)).toEqual([create.spanContext().spanId]);
    // The memory bus delivers inside publish(): the send span is the ambient span, so the parent (the
    // conventions' default); a broker's consumer has no ambient span and takes the creation context.
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(process.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(work.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    await subscriber.close();
    await publisher.close();
  });

  it("the envelope carries the create span's context, fixed at creation; outside a trace there is none", () => {
    const parent = tracer().startSpan("job");
    const event = context.with(trace.setSpan(context.active(), parent), () => createEvent("decision.made.v1", decision()));
    parent.end();
    const create = otel.spans().find((s) => s.name === "create decision.made.v1");
    expect(create).toBeDefined();
    expect(event.traceparent).toBe(traceparentOf(create as NonNullable<typeof create>));
    expect(JSON.parse(JSON.stringify(event)).traceparent).toBe(event.traceparent);
    expect(createEvent("decision.made.v1", decision()).traceparent).toBeUndefined();
  });

  it("a traceparent of the caller's own is kept as given, and no create span is made", () => {
    const own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const parent = tracer().startSpan("job");
    const event = context.with(trace.setSpan(context.active(), parent), () =>
      createEvent("decision.made.v1", decision(), { traceparent: own }),
    );
    parent.end();
    expect(event.traceparent).toBe(own);
    expect(otel.spans().filter((s) => s.name.startsWith("create"))).toHaveLength(0);
  });

  it("a batch is one send span, in a trace of its own, linked to the creation context of each event in it", async () => {
    const publisher = new BatchingPublisher();
    const parents = [tracer().startSpan("a"), tracer().startSpan("b"), tracer().startSpan("c")];
    const events = parents.map((p) => context.with(trace.setSpan(context.active(), p), () => createEvent("decision.made.v1", decision())));
    for (const p of parents) p.end();
    await Promise.all(events.map((e) => publisher.publishEvent(e)));
    expect(publisher.requests).toHaveLength(1);
    const sends = otel.spans().filter((s) => s.name.startsWith("send"));
    expect(sends).toHaveLength(1);
    const send = sends[0] as NonNullable<(typeof sends)[0]>;
    expect(send.name).toBe("send prefix.decision.made.v1");
    expect(send.kind).toBe(SpanKind.CLIENT);
    expect(send.parentSpanContext).toBeUndefined();
    expect(send.attributes).toMatchObject({
      "messaging.system": "kafka",
      "messaging.destination.name": "prefix.decision.made.v1",
      "messaging.batch.message_count": 3,
    });
    expect(send.attributes["messaging.message.id"]).toBeUndefined();
    const creates = otel.spans().filter((s) => s.name === "create decision.made.v1");
    expect(send.links.map((l) => l.context.spanId).sort()).toEqual(creates.map((c) => c.spanContext().spanId).sort());
    await publisher.close();
  });

  it("a batch with two destinations is named `send` without one; a failed request sets error.type and the error status", async () => {
    const publisher = new BatchingPublisher();
    publisher.failNext = Object.assign(new Error("broker down"), {});
    const results = await publisher.publishBatch([
      createEvent("decision.made.v1", decision()),
      createEvent("interaction.recorded.v1", interaction()),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    const send = otel.spans().find((s) => s.name.startsWith("send"));
    expect(send?.name).toBe("send");
    expect(send?.attributes["messaging.destination.name"]).toBeUndefined();
    expect(send?.attributes["error.type"]).toBe("Error");
    expect(send?.status.code).toBe(SpanStatusCode.ERROR);
    await publisher.close();
  });

  it("a batch with two destinations counts its sent messages per destination (and per error.type), not as one without a destination", async () => {
    const publisher = new BatchingPublisher();
    publisher.failType = "decision.made.v1";
    // The SDK's sums are cumulative over this file's cases: compare with the counts before.
    const counts = async () => {
      const sent = metric(await otel.metrics(), "messaging.client.sent.messages").dataPoints.filter(
        (p) => p.attributes["messaging.system"] === "kafka",
      );
      return (destination: string | undefined, type: string | undefined) =>
        (sent.find((p) => p.attributes["messaging.destination.name"] === destination && p.attributes["error.type"] === type)?.value as
          | number
          | undefined) ?? 0;
    };
    const before = await counts();
    const results = await publisher.publishBatch([
      createEvent("interaction.recorded.v1", interaction()),
      createEvent("decision.made.v1", decision()),
      createEvent("interaction.recorded.v1", interaction()),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(publisher.requests).toHaveLength(1);
    const after = await counts();
    const added = (destination: string | undefined, type: string | undefined) => after(destination, type) - before(destination, type);
    expect(added("prefix.interaction.recorded.v1", undefined)).toBe(2);
    expect(added("prefix.decision.made.v1", "Error")).toBe(1);
    expect(added(undefined, undefined)).toBe(0);
    expect(added(undefined, "Error")).toBe(0);
    // The request itself has no single destination: its span and duration carry none.
    expect(otel.spans().find((s) => s.name.startsWith("send"))?.name).toBe("send");
    await publisher.close();
  });

  it("metrics: operation duration (s), sent messages by error.type, consumed messages and process duration, the pending gauge", async () => {
    const bus = new MemoryBus();
    const publisher = new MemoryPublisher({ bus, logger: silentLogger });
    const subscriber = new MemorySubscriber({ bus, logger: silentLogger });
    let handled = 0;
    await subscriber.subscribe(["decision.made.v1"], () => {
      handled++;
    });
    await publisher.publish("decision.made.v1", decision());
    await publisher.publish("decision.made.v1", decision());
    bus.setOutage(true);
    await expect(publisher.publish("decision.made.v1", decision())).rejects.toMatchObject({ code: "CONNECTION_FAILED" });
    bus.setOutage(false);
    await until(() => handled === 2, "two handled");
    await until(() => otel.spans().filter((s) => s.name.startsWith("process")).length >= 2, "two process spans");

    const all = await otel.metrics();
    const duration = metric(all, "messaging.client.operation.duration");
    expect(duration.descriptor.unit).toBe("s");
    expect(duration.dataPoints.some((p) => p.attributes["error.type"] === "CONNECTION_FAILED")).toBe(true);
    const sent = metric(all, "messaging.client.sent.messages");
    expect(sent.descriptor.unit).toBe("{message}");
    const memorySent = sent.dataPoints.filter((p) => p.attributes["messaging.system"] === "memory");
    expect(
      memorySent.find((p) => p.attributes["error.type"] === undefined && p.attributes["messaging.destination.name"] === "decision.made.v1")
        ?.value,
    ).toBeGreaterThanOrEqual(2);
    expect(memorySent.find((p) => p.attributes["error.type"] === "CONNECTION_FAILED")?.value).toBe(1);
    expect(memorySent[0]?.attributes).toMatchObject({ "messaging.operation.name": "send", "messaging.operation.type": "send" });
    const consumed = metric(all, "messaging.client.consumed.messages");
    expect(consumed.descriptor.unit).toBe("{message}");
    expect(
      consumed.dataPoints.find((p) => p.attributes["messaging.destination.name"] === "decision.made.v1")?.value,
    ).toBeGreaterThanOrEqual(2);
    expect(metric(all, "messaging.process.duration").descriptor.unit).toBe("s");
    const pending = metric(all, "kaireon.events.publisher.pending");
    expect(pending.descriptor.unit).toBe("{message}");
    expect(pending.dataPoints.find((p) => p.attributes["messaging.system"] === "memory")?.value).toBe(0);
    await subscriber.close();
    await publisher.close();
  });

  it("a handler that fails every attempt ends its process span with error.type HANDLER_FAILED", async () => {
    const bus = new MemoryBus();
    const publisher = new MemoryPublisher({ bus, logger: silentLogger });
    const subscriber = new MemorySubscriber({ bus, logger: silentLogger });
    let failures = 0;
    await subscriber.subscribe(
      ["decision.made.v1"],
      () => {
        throw new Error("no");
      },
      { handlerAttempts: 1, onError: () => failures++ },
    );
    await publisher.publish("decision.made.v1", decision());
    await until(() => failures === 1, "HANDLER_FAILED");
    await until(() => otel.spans().some((s) => s.name.startsWith("process")), "the process span");
    const process = otel.spans().find((s) => s.name.startsWith("process"));
    expect(process?.attributes["error.type"]).toBe("HANDLER_FAILED");
    expect(process?.status.code).toBe(SpanStatusCode.ERROR);
    await subscriber.close();
    await publisher.close();
  });

  it("inside a client instrumentation's CONSUMER span for the message, no second process span: that span gets the link and the id", async () => {
    const bus = new MemoryBus();
    const subscriber = new MemorySubscriber({ bus, logger: silentLogger });
    const handled: string[] = [];
    await subscriber.subscribe(["decision.made.v1"], (event) => {
      handled.push(event.id);
    });
    const parent = tracer().startSpan("job");
    const event = context.with(trace.setSpan(context.active(), parent), () => createEvent("decision.made.v1", decision()));
    parent.end();
    // What an instrumentation of the transport does: its own process span, active while the message is handed over.
    const outer = tracer().startSpan("process decision.made.v1 (instrumentation)", { kind: SpanKind.CONSUMER });
    context.with(trace.setSpan(context.active(), outer), () => bus.publish(event));
    await until(() => handled.length === 1, "the handler");
    outer.end();
    const processes = otel.spans().filter((s) => s.name.startsWith("process"));
    expect(processes.map((s) => s.name)).toEqual(["process decision.made.v1 (instrumentation)"]);
    const create = otel.spans().find((s) => s.name === "create decision.made.v1");
    expect(processes[0]?.links.map((l) => l.context.spanId)).toEqual([create?.spanContext().spanId]);
    expect(processes[0]?.attributes["messaging.message.id"]).toBe(event.id);
    await subscriber.close();
  });

  it("observeGauge and telemetryHistogram (the kit's helpers for the outbox) export with their units", async () => {
    const stop = observeGauge("test.backlog", { unit: "{row}", description: "rows" }, (record) => record(7, { table: "t" }));
    telemetryHistogram("test.lag", { unit: "s", description: "lag" }).record(0.5, { table: "t" });
    const all = await otel.metrics();
    expect(metric(all, "test.backlog").descriptor.unit).toBe("{row}");
    expect(metric(all, "test.backlog").dataPoints[0]?.value).toBe(7);
    expect(metric(all, "test.lag").descriptor.unit).toBe("s");
    stop();
  });

  it("a transport whose client library makes the process span itself (Inbox.processSpans false): no span of ours, the process metrics still recorded", async () => {
    // The transport in miniature: it hands the inbox one serialized event, as the kafkajs seam does
    // when @opentelemetry/instrumentation-kafkajs already makes a process span per record.
    let inbox: Inbox | undefined;
    class ClientTracedSubscriber extends SubscriberBase {
      constructor() {
        super({ backend: "kafka", logger: silentLogger });
      }
      protected async open(given: Inbox): Promise<TransportSubscription> {
        given.processSpans = false;
        inbox = given;
        return { close: async () => {} };
      }
    }
    const subscriber = new ClientTracedSubscriber();
    const handled: string[] = [];
    await subscriber.subscribe(["decision.made.v1"], (event) => {
      handled.push(event.id);
    });
    const event = context.with(trace.setSpan(context.active(), tracer().startSpan("request")), () =>
      createEvent("decision.made.v1", decision()),
    );
    await expect(inbox?.deliver(JSON.stringify(event), { source: "prefix.decision.made.v1" })).resolves.toBe("handled");
    expect(handled).toEqual([event.id]);
    expect(otel.spans().filter((s) => s.name.startsWith("process"))).toEqual([]);
    const consumed = metric(await otel.metrics(), "messaging.client.consumed.messages");
    expect(consumed.dataPoints.find((p) => p.attributes["messaging.destination.name"] === "prefix.decision.made.v1")?.value).toBe(1);
    await subscriber.close();
  });
});
