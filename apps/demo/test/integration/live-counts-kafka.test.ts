// The live page's totals equal the store's counts on Kafka, including what was published before the
// view's consumer group first joined: a first demo runs traffic with the live view off (so its events
// are on the broker, unread by the view's group), a second one on the same store and topics opens the
// view, runs more traffic, and once the traffic has stopped and the view caught up, the page's totals
// are /health's stored counts. Real broker (tooling/services/kafka.sh), a per-run topic prefix.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@kaireon/events-core";
import { backend, ensureTopics } from "@kaireon/events-kafka";
import { requireService } from "@kaireon/events-testkit";
import { expect, it } from "vitest";
import { runTraffic } from "../../src/traffic.js";
import { followLiveStream, type RunningDemo, spawnDemo } from "./e2e-support.js";

interface Health {
  counts: { interactions: number; decisions: number; outbox: number };
}

async function health(url: string): Promise<Health> {
  return (await (await fetch(`${url}/health`)).json()) as Health;
}

async function traffic(url: string, seed: number) {
  const report = await runTraffic({ url, journeys: 60, durationMs: 60_000, tenants: 3, customers: 40, concurrency: 6, seed, thinkMs: 0 });
  expect(report.failures).toBe(0);
}

/** Until the outbox is empty: every stored event is on the broker. */
async function drained(url: string): Promise<Health> {
  await expect.poll(async () => (await health(url)).counts.outbox, { timeout: 60_000, interval: 200 }).toBe(0);
  return health(url);
}

it("Kafka: the page's totals equal the stored counts after traffic stops, events from before the view's first start included", async () => {
  const KAFKA_BROKERS = await requireService({ variable: "KAFKA_BROKERS", name: "Kafka broker" });
  const run = `demo-live-${Date.now()}`;
  const env = { EVENT_PUBLISHER: "kafka", KAFKA_BROKERS, KAFKA_TOPIC_PREFIX: `${run}.`, KAFKA_CONSUMER_GROUP_ID: run, DEMO_TAIL: "false" };
  await ensureTopics(backend.fromEnv(env)!, { partitions: 3, logger: silentLogger });
  const dataDir = mkdtempSync(join(tmpdir(), "kaireon-demo-live-kafka-"));
  let demo: RunningDemo | undefined;
  try {
    demo = await spawnDemo({ ...env, DEMO_LIVE_VIEW: "false" }, { dataDir, keepData: true });
    await traffic(demo.url, 11);
    const before = await drained(demo.url);
    expect(before.counts.decisions).toBe(60);
    await demo.stop();

    demo = await spawnDemo(env, { dataDir, keepData: true });
    const stream = followLiveStream(demo.url);
    await stream.ready;
    expect(stream.totals.origin?.mode).toBe("replay");
    await traffic(demo.url, 12);
    const stored = await drained(demo.url);
    expect(stored.counts.decisions).toBe(120);
    const expected = { "interaction.recorded.v1": stored.counts.interactions, "decision.made.v1": stored.counts.decisions };
    await expect.poll(() => stream.totals.counts, { timeout: 60_000, interval: 200 }).toEqual(expected);
    // A page opened now gets the same totals in its first snapshot.
    const late = followLiveStream(demo.url);
    await late.ready;
    expect(late.totals.counts).toEqual(expected);
    late.close();
    stream.close();
  } finally {
    await demo?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
