// /metrics on a real backend (Redis): the OpenTelemetry metrics of the demo in Prometheus text format,
// served by @opentelemetry/exporter-prometheus's reader — the publish side (the relay on the server's
// event loop, DEMO_RELAY=inline), the outbox gauges and relay lag, and the live view's consumption.
import { requireService } from "@kaireon/events-testkit";
import { expect, it } from "vitest";
import { postJson, spawnDemo } from "./e2e-support.js";

it("GET /metrics serves the messaging and outbox metrics in Prometheus format, with their units", async () => {
  const REDIS_URL = await requireService({ variable: "REDIS_URL", name: "Redis" });
  const demo = await spawnDemo({ EVENT_PUBLISHER: "redis", REDIS_URL, DEMO_RELAY: "inline" });
  try {
    const res = await postJson(`${demo.url}/api/v1/respond`, {
      tenantId: "acme",
      customerId: `metrics-${Date.now()}`,
      offerId: "o1",
      channelId: "web",
      interactionType: "click",
    });
    expect(res.status).toBe(201);
    const scrape = async () => {
      const r = await fetch(`${demo.url}/metrics`);
      expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
      return r.text();
    };
    await expect
      .poll(async () => /^messaging_client_consumed_messages_total\{messaging_system="redis",.*\} [1-9]/m.test(await scrape()), {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(true);
    const text = await scrape();
    // The exporter keeps the OpenTelemetry names (dots → underscores; counters get _total) and puts
    // the unit in the HELP/UNIT metadata rather than the name.
    expect(text).toMatch(/^# TYPE messaging_client_operation_duration histogram$/m);
    expect(text).toMatch(/^# UNIT messaging_client_operation_duration s$/m);
    expect(text).toMatch(/^# UNIT messaging_client_sent_messages_total \{message\}$/m);
    expect(text).toMatch(
      /^messaging_client_sent_messages_total\{messaging_system="redis",messaging_operation_type="send",messaging_operation_name="send",.*\} [1-9]/m,
    );
    expect(text).toMatch(/^# TYPE messaging_process_duration histogram$/m);
    expect(text).toMatch(/^kaireon_outbox_backlog\{kaireon_outbox_store="sqlite",.*\} \d+/m);
    expect(text).toMatch(/^# TYPE kaireon_outbox_oldest_pending_age gauge$/m);
    expect(text).toMatch(/^kaireon_outbox_relay_lag_count\{messaging_system="redis",kaireon_outbox_store="sqlite",.*\} [1-9]/m);
    expect(text).toMatch(/^kaireon_events_publisher_pending\{.*messaging_system="redis".*\} 0/m);
  } finally {
    await demo.stop();
  }
});
