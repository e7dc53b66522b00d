// Our spans beside @opentelemetry/instrumentation-ioredis, on the real Redis of tooling/services/redis.sh:
// the instrumentation is registered (with the in-memory SDK) before ioredis is first loaded, as an
// application's SDK start would, then events-redis publishes and consumes. What a user who runs both
// sees: one `send` per pipeline (ours, the messaging span) with ioredis' per-command CLIENT spans under
// it, one `process` per event — no second messaging span for the same message.
import { SpanKind } from "@opentelemetry/api";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { expect, it } from "vitest";
import { besideInstrumentation, expectEachLinkedOnce, isOurs, ours, publishFiveInRequest, scopeOf } from "./instrumentation-support.js";

const otel = besideInstrumentation(
  () => new IORedisInstrumentation(),
  "events-redis",
  "ioredis",
  (ioredis) => (ioredis.Redis as { prototype: { sendCommand: { __wrapped?: boolean } } }).prototype.sendCommand.__wrapped ?? false,
);
const isIoredis = (s: ReadableSpan) => scopeOf(s) === "@opentelemetry/instrumentation-ioredis";

it("with the ioredis instrumentation: one send span per pipeline, its commands under it, one process span per event", async () => {
  const { requireService, sampleInteraction } = await import("@kaireon/events-testkit");
  const REDIS_URL = await requireService({ variable: "REDIS_URL", name: "Redis server" });
  // Loaded only now, after the instrumentation hooked `require("ioredis")`.
  const { createEvent, loadPublisher, loadSubscriber, silentLogger } = await import("@kaireon/events-core");
  const env = {
    EVENT_PUBLISHER: "redis",
    REDIS_URL,
    REDIS_MODE: "streams",
    REDIS_CHANNEL_PREFIX: `otel-ioredis-${Date.now().toString(36)}:`,
    REDIS_CONSUMER_GROUP: "otel-ioredis",
  };
  const subscriber = await loadSubscriber(env, { logger: silentLogger });
  const received: string[] = [];
  const subscription = await subscriber.subscribe(["interaction.recorded.v1"], (event) => {
    received.push(event.id);
  });
  const publisher = await loadPublisher(env, { logger: silentLogger });
  try {
    const events = await publishFiveInRequest(
      (i) => createEvent("interaction.recorded.v1", sampleInteraction({ customerId: `c-${i}` })),
      (e) => publisher.publishEvent(e),
    );
    await expect.poll(() => received.filter((id) => events.some((e) => e.id === id)).length, { timeout: 30_000, interval: 100 }).toBe(5);
    await expect.poll(() => ours(otel().spans(), "process").length, { timeout: 10_000 }).toBe(5);

    const spans = otel().spans();
    const ioredis = spans.filter(isIoredis);
    // The instrumentation is live: without its spans this test would prove nothing.
    expect(ioredis.length).toBeGreaterThan(0);
    const creates = ours(spans, "create");
    expect(creates).toHaveLength(5);

    // Each event's create context is linked by exactly one send span (ours), whatever the batching.
    const sends = ours(spans, "send");
    expectEachLinkedOnce(creates, sends, "send");
    expect(sends.reduce((n, s) => n + Number(s.attributes["messaging.batch.message_count"]), 0)).toBe(5);
    // ioredis' spans are per Redis command, CLIENT, without messaging attributes; the ones that wrote
    // our events ran inside our send span (its children), none became a messaging span of its own.
    for (const s of ioredis) {
      expect(s.kind).toBe(SpanKind.CLIENT);
      expect(Object.keys(s.attributes).filter((k) => k.startsWith("messaging."))).toEqual([]);
    }
    const sendIds = new Set(sends.map((s) => s.spanContext().spanId));
    const underSend = ioredis.filter((s) => s.parentSpanContext?.spanId !== undefined && sendIds.has(s.parentSpanContext.spanId));
    expect(underSend.length).toBeGreaterThanOrEqual(sends.length);
    // The commands that carried the events: the publish script (script mode) or XADDs (pipeline mode).
    expect(underSend.map((s) => s.name).filter((n) => ["evalsha", "eval", "xadd"].includes(n.toLowerCase())).length).toBeGreaterThan(0);

    // Consumer side: one process span per event (ours), linked to its creation context; ioredis'
    // reads are separate CLIENT spans, not a second process span.
    expectEachLinkedOnce(creates, ours(spans, "process"), "process");
    expect(spans.filter((s) => s.kind === SpanKind.CONSUMER && !isOurs(s))).toEqual([]);
    // The subscriber's reads and acks have no parent span: ioredis records none (requireParentSpan).
    expect(ioredis.map((s) => s.name.toLowerCase()).filter((n) => n === "xreadgroup" || n === "xack")).toEqual([]);
  } finally {
    await publisher.close();
    await subscription.close();
    await subscriber.close();
  }
});
