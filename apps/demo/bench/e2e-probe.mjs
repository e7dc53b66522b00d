// The bench's end-to-end probe, on a worker thread of its own: an independent subscriber of the
// backend the server publishes to, recording now − event time for every event whose event time
// falls in the window it is given. On its own thread so the load tool (autocannon, on the bench's
// main thread) does not delay the moment an event is seen: the probe measures the stream, not
// the bench's own event loop.

import { monitorEventLoopDelay } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { loadSubscriber, silentLogger, topicNames } from "@kaireon/events-core";
import { Redis } from "ioredis";

const env = workerData.env;
let samples = [];
let window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
let received = 0;
// The probe's own loop delay over the window (beyond its 5 ms sampling): an event it saw late because it was busy.
const delay = monitorEventLoopDelay({ resolution: 5 });
const record = (json) => {
  const now = Date.now();
  received++;
  const time = Date.parse(JSON.parse(json).time);
  if (time >= window.from && time <= window.to) samples.push(now - time);
};

const backend = env.EVENT_PUBLISHER;
let close;
let how;
if (backend === "redis") {
  const prefix = env.REDIS_CHANNEL_PREFIX ?? "";
  const keys = topicNames.map((t) => `${prefix}${t}`);
  const redis = new Redis(env.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  if ((env.REDIS_MODE ?? "").trim().toLowerCase() === "streams") {
    how = "ioredis XREAD";
    let last = keys.map(() => "$");
    let open = true;
    const loop = (async () => {
      while (open) {
        const reply = await redis.xread("COUNT", 1000, "BLOCK", 200, "STREAMS", ...keys, ...last).catch(() => null);
        for (const [key, entries] of reply ?? []) {
          const i = keys.indexOf(key);
          for (const [id, fields] of entries) {
            last[i] = id;
            const at = fields.indexOf("event");
            if (at >= 0) record(fields[at + 1]);
          }
        }
        last = [...last];
      }
    })();
    close = async () => {
      open = false;
      await loop;
      redis.disconnect();
    };
  } else {
    how = "ioredis SUBSCRIBE";
    redis.on("message", (_channel, message) => record(message));
    await redis.subscribe(...keys);
    close = async () => redis.disconnect();
  }
} else {
  how = `${backend} subscriber (core)`;
  const subscriber = await loadSubscriber(env, { logger: silentLogger, resolveFrom: import.meta.url });
  const subscription = await subscriber.subscribe(topicNames, (event) => record(JSON.stringify({ time: event.time })), {
    group: `kaireon-bench-probe-${process.pid}-${Date.now()}`,
  });
  close = async () => {
    await subscription.close();
    await subscriber.close();
  };
}

const quantile = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : Number.NaN;

parentPort.on("message", async (m) => {
  if (m.type === "measure") {
    window = { from: m.from, to: m.to };
    if (m.to === Number.POSITIVE_INFINITY) {
      delay.reset();
      delay.enable();
    } else delay.disable();
  } else if (m.type === "take") {
    // The window's figures; the next window starts empty.
    const sorted = samples.sort((a, b) => a - b);
    samples = [];
    parentPort.postMessage({
      type: "stats",
      stats: {
        how,
        received,
        samples: sorted.length,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        max: sorted.at(-1) ?? Number.NaN,
        delayP99: Math.max(0, delay.percentile(99) / 1e6 - 5),
      },
    });
  } else if (m.type === "close") {
    await close();
    parentPort.close();
  }
});
parentPort.postMessage({ type: "ready" });
