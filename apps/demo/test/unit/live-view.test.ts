// The live view's figures on a fixed clock: events per second per topic by event time, lag
// percentiles over the last 30 s, and where its group starts. The subscriber is a stand-in that hands
// the view events with chosen times (a real backend stamps its own, and the clock here is the test's).
import { createEvent, type DomainEvent, type EventHandler, type SubscribeOptions, type Subscriber } from "@kaireon/events-core";
import { sampleInteraction } from "@kaireon/events-testkit";
import { expect, it } from "vitest";
import { keepsEvents } from "../../src/container.js";
import { LiveView, quantile, RATE_SECONDS } from "../../src/live-view.js";

function stub() {
  const seen: { options?: SubscribeOptions | undefined; handler?: EventHandler } = {};
  const subscriber: Subscriber = {
    backend: "stub",
    async subscribe(topics, handler, options) {
      seen.handler = handler;
      seen.options = options;
      return { topics, close: async () => {} };
    },
    async close() {},
  };
  return { subscriber, seen };
}

/** An event stamped `ms` (the envelope's time, as the publisher would have set it then). */
const at = (ms: number) =>
  ({ ...createEvent("interaction.recorded.v1", sampleInteraction({ tenantId: "t1" })), time: new Date(ms).toISOString() }) as DomainEvent;

it("counts events per second by event time, and lag p50/p99 over the last 30 s", async () => {
  let now = 1_000_000_000_000;
  const { subscriber, seen } = stub();
  const view = new LiveView(subscriber, { now: () => now });
  await view.start();
  expect(view.origin).toEqual({ mode: "live", since: new Date(now).toISOString() });
  // 100 events: lags 1..100 ms, all in the current second.
  for (let i = 1; i <= 100; i++) await seen.handler!(at(now - i), { source: "stub" });
  const lag = view.lag();
  expect(lag).toEqual({ samples: 100, p50Ms: 50, p99Ms: 99, maxMs: 100 });
  const rates = view.rates();
  const series = rates.perTopic["interaction.recorded.v1"]!;
  expect(series).toHaveLength(RATE_SECONDS);
  expect(series.reduce((a, b) => a + b, 0)).toBe(100);
  // 31 s later the lag window is empty; the rate is still charted, one slot further left.
  now += 31_000;
  expect(view.lag().samples).toBe(0);
  expect(view.rates().perTopic["interaction.recorded.v1"]!.reduce((a, b) => a + b, 0)).toBe(100);
  // Past the chart's span it is gone, and an event older than the span is counted but not charted.
  now += RATE_SECONDS * 1000;
  await seen.handler!(at(now - RATE_SECONDS * 2000), { source: "stub" });
  expect(view.rates().perTopic["interaction.recorded.v1"]!.reduce((a, b) => a + b, 0)).toBe(0);
  expect(view.counts["interaction.recorded.v1"]).toBe(101);
});

it("replay: the group starts at the earliest retained event", async () => {
  const { subscriber, seen } = stub();
  const view = new LiveView(subscriber, { replay: true });
  await view.start();
  expect(seen.options).toMatchObject({ group: "kaireon-demo-live-view", from: "earliest" });
  expect(view.origin.mode).toBe("replay");
  const live = stub();
  await new LiveView(live.subscriber).start();
  expect(live.seen.options?.from).toBeUndefined();
});

it("quantile: nearest rank", () => {
  expect(quantile([], 0.5)).toBeNull();
  expect(quantile([5], 0.99)).toBe(5);
  expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
});

it("keepsEvents: Kafka, MSK, Kinesis and Redis Streams keep events; pub/sub, EventBridge and memory do not", () => {
  expect(keepsEvents({}, "kafka")).toBe(true);
  expect(keepsEvents({}, "msk")).toBe(true);
  expect(keepsEvents({}, "kinesis")).toBe(true);
  expect(keepsEvents({ REDIS_MODE: "streams" }, "redis")).toBe(true);
  expect(keepsEvents({ REDIS_MODE: "pubsub" }, "redis")).toBe(false);
  expect(keepsEvents({}, "redis")).toBe(false);
  expect(keepsEvents({}, "eventbridge")).toBe(false);
  expect(keepsEvents({}, "memory")).toBe(false);
});
