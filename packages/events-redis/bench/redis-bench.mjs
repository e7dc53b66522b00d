// Throughput of @kaireon/events-redis against raw ioredis, in one run on the same Redis:
//   raw    ioredis pipelines of pre-serialized envelopes (the ceiling for this connection)
//   ready  publisher.publishEvent() of the envelopes those strings came from (built, validated and
//          serialized beforehand: an envelope caches its JSON) — target ≥ 0.9 × raw
//   full   publisher.publish(topic, data) from typed data: createEvent + zod validation +
//          serialize + publish — reported; the long-run aim is ≥ 1.0 × raw
// Each path runs ROUNDS times, alternating, and the median is reported. Publishes are fired in
// windows of BENCH_WINDOW and awaited, so what is in flight stays bounded (unbounded firing makes
// Redis cut subscribers off at its pub/sub output-buffer limit).
//
//   pnpm --filter @kaireon/events-redis bench          # REDIS_URL, or starts redis-server itself
//   BENCH_EVENTS=200000 BENCH_MODE=streams pnpm --filter @kaireon/events-redis bench
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { createEvent, redactUrl, serializeEvent, silentLogger } from "@kaireon/events-core";
import { Redis } from "ioredis";
import { createRedisPublisher, redisOptions } from "../dist/index.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1_000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 5_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MODE = process.env.BENCH_MODE ?? "pubsub";
const PREFIX = `bench:${Date.now().toString(36)}:`;

async function startOwnRedis() {
  const bin = process.env.REDIS_SERVER_BIN || "redis-server";
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  const child = spawn(bin, ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await new Promise((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (e) =>
      reject(
        new Error(`REDIS_URL is not set and ${bin} cannot start (${e.message}): set REDIS_URL or run through tooling/with-services.sh`),
      ),
    );
  });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { retryStrategy: () => 100 });
  probe.on("error", () => {});
  await probe.ping();
  probe.disconnect();
  return { url, stop: () => child.kill() };
}

function data(i) {
  return {
    tenantId: "tenant-0001",
    customerId: `cust-${i % 10_000}`,
    recommendationId: `rec-${i}`,
    offersReturned: 5,
    topOfferId: `offer-${i % 250}`,
    topPropensity: 0.734,
    decisionFlowKey: "nba-default",
    timestamp: new Date(1_790_000_000_000 + i).toISOString(),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (n, ms) => Math.round((n / ms) * 1000);

async function main() {
  const own = process.env.REDIS_URL ? undefined : await startOwnRedis();
  const url = process.env.REDIS_URL ?? own.url;
  const raw = new Redis(url);
  const options = redisOptions(url, { prefix: PREFIX, mode: MODE, maxPending: Math.max(10_000, WINDOW * 2), pipelineSize: BATCH });
  const publisher = createRedisPublisher(options, { logger: silentLogger });
  const key = `${PREFIX}decision.made.v1`;
  try {
    await raw.ping();
    const payloads = Array.from({ length: EVENTS }, (_, i) => data(i));
    const sizeOf = serializeEvent(createEvent("decision.made.v1", payloads[0]));
    const rawCommand = (pipeline, json) =>
      MODE === "streams" ? pipeline.xadd(key, "MAXLEN", "~", options.streamMaxLen, "*", "event", json) : pipeline.publish(key, json);

    // The same envelopes for both: built, validated and serialized once beforehand (an envelope
    // caches its JSON), so raw sends exactly the strings the publisher sends.
    let events;
    let strings;
    function prepare() {
      events = payloads.map((p) => createEvent("decision.made.v1", p));
      strings = events.map((e) => serializeEvent(e));
    }
    async function runRaw() {
      const t0 = performance.now();
      for (let i = 0; i < EVENTS; i += BATCH) {
        const pipeline = raw.pipeline();
        for (let j = i; j < Math.min(EVENTS, i + BATCH); j++) rawCommand(pipeline, strings[j]);
        await pipeline.exec();
      }
      return performance.now() - t0;
    }
    async function runReady() {
      const t0 = performance.now();
      for (let i = 0; i < EVENTS; i += WINDOW) {
        const window = [];
        for (let j = i; j < Math.min(EVENTS, i + WINDOW); j++) window.push(publisher.publishEvent(events[j]));
        await Promise.all(window);
      }
      return performance.now() - t0;
    }
    async function runFull() {
      const t0 = performance.now();
      for (let i = 0; i < EVENTS; i += WINDOW) {
        const window = [];
        for (let j = i; j < Math.min(EVENTS, i + WINDOW); j++) window.push(publisher.publish("decision.made.v1", payloads[j]));
        await Promise.all(window);
      }
      return performance.now() - t0;
    }

    const info = await raw.info("server");
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    console.log(
      `redis-bench: ${redactUrl(url)} (Redis ${version}), mode ${MODE}, ${EVENTS} events of ${sizeOf.length} bytes, pipelines of ${BATCH}, window ${WINDOW}, ${ROUNDS} rounds, Node ${process.version}`,
    );
    const times = { raw: [], ready: [], full: [] };
    for (let round = 0; round < ROUNDS; round++) {
      prepare();
      if (process.env.BENCH_ONLY !== "ready") times.raw.push(await runRaw());
      times.ready.push(await runReady());
      if (process.env.BENCH_ONLY !== "ready") times.full.push(await runFull());
      if (MODE === "streams") await raw.del(key);
    }
    // Where the full path's time goes, without I/O: building + validating, then serializing.
    const t0 = performance.now();
    const built = payloads.map((p) => createEvent("decision.made.v1", p));
    const t1 = performance.now();
    for (const e of built) serializeEvent(e);
    const t2 = performance.now();
    const m = publisher.metrics();
    if (m.failed > 0) throw new Error(`publisher reported failures: ${JSON.stringify(m.failures)}`);
    const r = { raw: rate(EVENTS, median(times.raw)), ready: rate(EVENTS, median(times.ready)), full: rate(EVENTS, median(times.full)) };
    const pad = (s) => s.padEnd(58);
    console.log(`${pad("raw ioredis pipelines, pre-serialized strings")}${r.raw.toLocaleString("en")} events/s`);
    console.log(
      `${pad("publisher.publishEvent, ready envelopes")}${r.ready.toLocaleString("en")} events/s  ratio ${(r.ready / r.raw).toFixed(2)} (target >= 0.90)`,
    );
    console.log(
      `${pad("publisher.publish, typed data (create+validate+serialize)")}${r.full.toLocaleString("en")} events/s  ratio ${(r.full / r.raw).toFixed(2)} (aim >= 1.00)`,
    );
    console.log(
      `breakdown, CPU only: createEvent (build + zod validation) ${rate(EVENTS, t1 - t0).toLocaleString("en")} events/s, serializeEvent ${rate(EVENTS, t2 - t1).toLocaleString("en")} events/s`,
    );
    console.log(
      `rounds (events/s): ${Object.entries(times)
        .map(([k, ts]) => `${k} ${ts.map((t) => rate(EVENTS, t)).join("/")}`)
        .join(", ")}`,
    );
  } finally {
    await publisher.close();
    raw.disconnect();
    own?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
