// The demo's OTLP export into a real receiver: the OpenTelemetry Collector of tooling/services/otelcol.sh
// (OTLP receiver → file exporter), the demo on the real Redis with its relay on the worker thread. The
// demo is configured only by the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, the
// SDK's export intervals); the spans and metrics are asserted on what the collector wrote.
import { requireService } from "@kaireon/events-testkit";
import { expect, it } from "vitest";
import { followLiveStream, postJson, spawnDemo } from "./e2e-support.js";
import { collectorReceiver, expectJourney } from "./e2e-telemetry.js";

it("the demo exports with OTEL_EXPORTER_OTLP_ENDPOINT to the collector: the journey's spans, the metrics with their units", async () => {
  const REDIS_URL = await requireService({ variable: "REDIS_URL", name: "Redis" });
  const endpoint = await requireService({
    variable: "OTELCOL_OTLP_HTTP_ENDPOINT",
    name: "OpenTelemetry Collector (KAIREON_SERVICES=otelcol)",
  });
  const outputDir = await requireService({ variable: "OTELCOL_OUTPUT_DIR", name: "OpenTelemetry Collector's output folder" });
  // Its own service name: the collector writes this run's telemetry to a file of its own.
  const collector = collectorReceiver(endpoint, outputDir, `kaireon-demo-collector-${Date.now().toString(36)}`);
  // Its own channels: the live view would otherwise process every event other runs publish on this Redis.
  const REDIS_CHANNEL_PREFIX = `collector-${Date.now().toString(36)}:`;
  const demo = await spawnDemo({ EVENT_PUBLISHER: "redis", REDIS_URL, REDIS_CHANNEL_PREFIX, ...collector.env });
  try {
    const stream = followLiveStream(demo.url);
    await stream.ready;
    const res = await postJson(`${demo.url}/api/v1/respond`, {
      tenantId: "acme",
      customerId: `collector-${Date.now()}`,
      offerId: "o1",
      channelId: "web",
      interactionType: "click",
    });
    expect(res.status).toBe(201);
    const { eventId } = res.json.interaction;
    await expect.poll(() => stream.events.map((e) => e.id), { timeout: 30_000, interval: 100 }).toContain(eventId);
    stream.close();
    // POST /api/v1/respond (SERVER) → create (PRODUCER, its child) → send (the relay thread's CLIENT
    // span, linked) → process (the live view's CONSUMER span, child and link), one trace.
    await expectJourney(collector, eventId, "redis");

    const expected: Record<string, string> = {
      "messaging.client.operation.duration": "s",
      "messaging.client.sent.messages": "{message}",
      "messaging.client.consumed.messages": "{message}",
      "messaging.process.duration": "s",
      "kaireon.events.publisher.pending": "{message}",
      "kaireon.outbox.backlog": "{row}",
      "kaireon.outbox.oldest_pending.age": "s",
      "kaireon.outbox.relay.lag": "s",
    };
    await expect
      .poll(() => Object.keys(expected).filter((name) => !collector.metrics().has(name)), { timeout: 30_000, interval: 250 })
      .toEqual([]);
    const metrics = collector.metrics();
    expect(Object.fromEntries(Object.keys(expected).map((name) => [name, metrics.get(name)?.unit]))).toEqual(expected);
    expect(metrics.get("messaging.client.sent.messages")?.points).toContainEqual(
      expect.objectContaining({ "messaging.system": "redis", "messaging.operation.type": "send" }),
    );
    expect(metrics.get("kaireon.outbox.relay.lag")?.points).toContainEqual(
      expect.objectContaining({ "messaging.system": "redis", "kaireon.outbox.store": "sqlite" }),
    );
  } finally {
    await demo.stop();
  }
});
