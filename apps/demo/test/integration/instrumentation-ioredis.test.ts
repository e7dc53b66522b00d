// Our spans beside @opentelemetry/instrumentation-ioredis, on the real Redis of tooling/services/redis.sh:
// the instrumentation is registered (with the in-memory SDK) before ioredis is first loaded, as an
// application's SDK start would, then events-redis publishes and consumes. What a user who runs both
// sees: one `send` per pipeline (ours, the messaging span) with ioredis' per-command CLIENT spans under
// it, one `process` per event — no second messaging span for the same message.
import { createRequire } from "node:module";
import { context, SpanKind, trace } from "@opentelemetry/api";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type OtelCapture, startOtel } from "../../../../packages/events-core/test/otel.js";

let otel: OtelCapture;
let instrumentation: IORedisInstrumentation;

beforeAll(() => {
  otel = startOtel();
  instrumentation = new IORedisInstrumentation();
  // The instrumentation patches ioredis when it is required (an ESM application registers its
  // import hook with `node --import`, which this test runner cannot): required once here, from where
  // events-redis resolves it, so events-redis' `import "ioredis"` gets the same, patched module.
  const { Redis } = createRequire(new URL("../../../../packages/events-redis/package.json", import.meta.url))("ioredis");
  expect((Redis.prototype.sendCommand as { __wrapped?: boolean }).__wrapped, "ioredis patched by the instrumentation").toBe(true);
});
afterAll(async () => {
  instrumentation?.disable();
  await otel?.shutdown();
});

const scopeOf = (s: ReadableSpan) => s.instrumentationScope.name;
const isOurs = (s: ReadableSpan) => scopeOf(s).startsWith("@kaireon/");
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
    const request = trace.getTracer("test").startSpan("POST /api/v1/respond", { kind: SpanKind.SERVER });
    const events = context.with(trace.setSpan(context.active(), request), () =>
      Array.from({ length: 5 }, (_, i) => createEvent("interaction.recorded.v1", sampleInteraction({ customerId: `c-${i}` }))),
    );
    request.end();
    await Promise.all(events.map((e) => publisher.publishEvent(e)));
    await expect.poll(() => received.filter((id) => events.some((e) => e.id === id)).length, { timeout: 30_000, interval: 100 }).toBe(5);
    await expect.poll(() => otel.spans().filter((s) => isOurs(s) && s.name.startsWith("process")).length, { timeout: 10_000 }).toBe(5);

    const spans = otel.spans();
    const ioredis = spans.filter(isIoredis);
    // The instrumentation is live: without its spans this test would prove nothing.
    expect(ioredis.length).toBeGreaterThan(0);
    const creates = spans.filter((s) => isOurs(s) && s.name.startsWith("create"));
    expect(creates).toHaveLength(5);

    // Each event's create context is linked by exactly one send span (ours), whatever the batching.
    const sends = spans.filter((s) => isOurs(s) && s.name.startsWith("send"));
    for (const create of creates) {
      const linking = sends.filter((s) => s.links.some((l) => l.context.spanId === create.spanContext().spanId));
      expect(linking, `send spans linked to ${create.name}`).toHaveLength(1);
    }
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
    const processes = spans.filter((s) => isOurs(s) && s.name.startsWith("process"));
    for (const create of creates) {
      const linking = processes.filter((s) => s.links.some((l) => l.context.spanId === create.spanContext().spanId));
      expect(linking, `process spans linked to ${create.name}`).toHaveLength(1);
    }
    expect(spans.filter((s) => s.kind === SpanKind.CONSUMER && !isOurs(s))).toEqual([]);
    // The subscriber's reads and acks have no parent span: ioredis records none (requireParentSpan).
    expect(ioredis.map((s) => s.name.toLowerCase()).filter((n) => n === "xreadgroup" || n === "xack")).toEqual([]);
  } finally {
    await publisher.close();
    await subscription.close();
    await subscriber.close();
  }
});
