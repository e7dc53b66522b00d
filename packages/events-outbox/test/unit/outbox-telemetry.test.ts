// OpenTelemetry across the outbox (a real SQLite store, the relay, the memory backend, an in-memory
// SDK): the event's creation context is taken in the request that enqueued it and stored with the
// row (in its envelope), so the relay's send span links back to that request however late it sends;
// and the outbox metrics — backlog, oldest pending age, dead rows, relay lag — with their units.

import { createEvent, MemoryBus, MemoryPublisher, silentLogger } from "@kaireon/events-core";
import { sampleInteraction } from "@kaireon/events-testkit";
import { context, SpanKind, trace } from "@opentelemetry/api";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metric, type OtelCapture, startOtel } from "../../../events-core/test/otel.js";
import { createOutboxRelay, createSqliteOutbox } from "../../src/index.js";
import { until } from "../support/outbox-suite.js";

let otel: OtelCapture;
beforeAll(() => {
  otel = startOtel();
});
afterAll(async () => {
  await otel.shutdown();
});

describe("outbox telemetry", () => {
  it("the relay's send span links to the create span of the request that enqueued the row, sent long after that request ended", async () => {
    const db = new Database(":memory:");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    const tracer = trace.getTracer("test");
    const request = tracer.startSpan("POST /api/v1/respond", { kind: SpanKind.SERVER });
    const event = context.with(trace.setSpan(context.active(), request), () => {
      const e = createEvent("interaction.recorded.v1", sampleInteraction());
      db.transaction(() => store.enqueue(db, e))();
      return e;
    });
    request.end();

    // "However late": the request's span has ended before any relay exists.
    const publisher = new MemoryPublisher({ bus: new MemoryBus(), logger: silentLogger });
    const relay = createOutboxRelay({ store, publisher, logger: silentLogger, pollIntervalMs: 50, migrate: false });
    await relay.start();
    try {
      await until("the row sent", async () => (await relay.metrics()).sent === 1);
      const create = otel.spans().find((s) => s.name === "create interaction.recorded.v1");
      const send = otel.spans().find((s) => s.name === "send interaction.recorded.v1");
      expect(create?.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(event.traceparent).toContain(create?.spanContext().spanId);
      expect(send?.links.map((l) => l.context.spanId)).toEqual([create?.spanContext().spanId]);
      expect(send?.attributes["messaging.system"]).toBe("memory");

      const all = await otel.metrics();
      const lag = metric(all, "kaireon.outbox.relay.lag");
      expect(lag.descriptor.unit).toBe("s");
      expect(lag.dataPoints[0]?.attributes).toMatchObject({ "messaging.system": "memory", "kaireon.outbox.store": "sqlite" });
      const backlogNow = metric(all, "kaireon.outbox.backlog");
      expect(backlogNow.descriptor.unit).toBe("{row}");
      expect(backlogNow.dataPoints[0]?.value).toBe(0);
      expect(metric(all, "kaireon.outbox.oldest_pending.age").descriptor.unit).toBe("s");
      expect(metric(all, "kaireon.outbox.dead").dataPoints[0]?.value).toBe(0);
    } finally {
      await relay.stop();
      await publisher.close();
      db.close();
    }
  });
});
