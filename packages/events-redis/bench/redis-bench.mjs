// Throughput of @kaireon/events-redis against raw ioredis, in one run on the same Redis, pub/sub and
// Streams:
//   raw    ioredis pipelines of BENCH_BATCH pre-serialized envelopes, one PUBLISH/XADD each
//   ready  publisher.publishEvent() of the envelopes those strings came from (built, validated and
//          serialized beforehand: an envelope caches its JSON) — target ≥ 1.8 × raw
//   typed  publisher.publish(topic, data): createEvent + validation + serialize + publish — target ≥ 1.0 × raw
// Each path runs ROUNDS times, alternating; the median is reported, and every round with this
// process's CPU time per event (process.cpuUsage), which a loaded machine disturbs less than wall
// time, and Redis's (INFO cpu). Publishes are fired in windows of BENCH_WINDOW and awaited, so what is in flight stays bounded.
// A full collection before each timed run: no run pays for the garbage of the one before.
//
//   pnpm --filter @kaireon/events-redis bench          # REDIS_URL, or starts redis-server itself
//   BENCH_MODE=streams REDIS_SEND_MODE=pipeline REDIS_SCRIPT_SIZE=200 BENCH_BATCH=1000 pnpm --filter @kaireon/events-redis bench
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { loadavg } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createEvent, redactUrl, serializeEvent, silentLogger } from "@kaireon/events-core";
import { Redis } from "ioredis";
import { createRedisPublisher, redisOptions } from "../dist/index.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1_000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 5_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Both backends' modes by default, in the same run on the same Redis.
const MODES = (process.env.BENCH_MODE ?? "pubsub,streams").split(",").map((m) => m.trim());
const SEND_MODE = process.env.REDIS_SEND_MODE ?? "script";
const SCRIPT_SIZE = Number(process.env.REDIS_SCRIPT_SIZE ?? 100);
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

const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

setFlagsFromString("--expose-gc");
const collect = globalThis.gc ?? runInNewContext("gc");

/**
 * One timed run: wall milliseconds and this process's CPU microseconds. The heap is collected first,
 * so no run pays for the garbage the one before it left (the typed path's used to land on the raw
 * run after it); a run's own garbage stays inside it.
 */
async function timed(run, serverCpu) {
  collect();
  const s0 = await serverCpu();
  const c0 = cpuNow();
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const cpuUs = cpuNow() - c0;
  return { ms, cpuUs, serverUs: (await serverCpu()) - s0 };
}

/**
 * The Redis server's CPU so far (INFO cpu: used_cpu_user + used_cpu_sys, whole server), µs. The
 * bench is its only client while it runs, so the difference over a run is what the run cost Redis:
 * where the ready path is bound by Redis rather than by this process, this is the figure that moves.
 */
async function redisCpuUs(redis) {
  const info = await redis.info("cpu");
  const seconds = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? Number.NaN);
  return (seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1e6;
}

async function benchMode(url, raw, mode, payloads) {
  const prefix = `${PREFIX}${mode}:`;
  const options = redisOptions(url, {
    prefix,
    mode,
    sendMode: SEND_MODE,
    scriptSize: SCRIPT_SIZE,
    maxPending: Math.max(10_000, WINDOW * 2),
    pipelineSize: BATCH,
  });
  const publisher = createRedisPublisher(options, { logger: silentLogger });
  const key = `${prefix}decision.made.v1`;
  try {
    const rawCommand = (pipeline, json) =>
      mode === "streams" ? pipeline.xadd(key, "MAXLEN", "~", options.streamMaxLen, "*", "event", json) : pipeline.publish(key, json);
    // The same envelopes for both: built, validated and serialized once beforehand (an envelope
    // caches its JSON), so raw sends exactly the strings the publisher sends.
    let events;
    let strings;
    function prepare() {
      events = payloads.map((p) => createEvent("decision.made.v1", p));
      strings = events.map((e) => serializeEvent(e));
    }
    async function runRaw() {
      for (let i = 0; i < EVENTS; i += BATCH) {
        const pipeline = raw.pipeline();
        for (let j = i; j < Math.min(EVENTS, i + BATCH); j++) rawCommand(pipeline, strings[j]);
        await pipeline.exec();
      }
    }
    async function runReady() {
      for (let i = 0; i < EVENTS; i += WINDOW) {
        const window = [];
        for (let j = i; j < Math.min(EVENTS, i + WINDOW); j++) window.push(publisher.publishEvent(events[j]));
        await Promise.all(window);
      }
    }
    async function runFull() {
      for (let i = 0; i < EVENTS; i += WINDOW) {
        const window = [];
        for (let j = i; j < Math.min(EVENTS, i + WINDOW); j++) window.push(publisher.publish("decision.made.v1", payloads[j]));
        await Promise.all(window);
      }
    }
    const runs = { raw: [], ready: [], full: [] };
    for (let round = 0; round < ROUNDS; round++) {
      prepare();
      const serverCpu = () => redisCpuUs(raw);
      runs.raw.push(await timed(runRaw, serverCpu));
      runs.ready.push(await timed(runReady, serverCpu));
      runs.full.push(await timed(runFull, serverCpu));
      if (mode === "streams") await raw.del(key);
    }
    const m = publisher.metrics();
    if (m.failed > 0) throw new Error(`publisher reported failures: ${JSON.stringify(m.failures)}`);
    const med = (k) => median(runs[k].map((r) => r.ms));
    const r = { raw: rate(EVENTS, med("raw")), ready: rate(EVENTS, med("ready")), full: rate(EVENTS, med("full")) };
    const cpu = (k) => (median(runs[k].map((x) => x.cpuUs)) / EVENTS).toFixed(2);
    const serverCpu = (k) => (median(runs[k].map((x) => x.serverUs)) / EVENTS).toFixed(2);
    console.log(`\n${mode} (REDIS_SEND_MODE=${SEND_MODE}${SEND_MODE === "script" ? `, ${SCRIPT_SIZE} per script call` : ""}):`);
    console.log(`publish(typed) / raw ioredis pipeline = ${(r.full / r.raw).toFixed(2)}`);
    console.log(`publishEvent(ready) / raw ioredis pipeline = ${(r.ready / r.raw).toFixed(2)}`);
    const pad = (s) => s.padEnd(40);
    console.log(
      `${pad("  raw ioredis pipelines")}${r.raw.toLocaleString("en")} events/s, ${cpu("raw")} µs CPU/event here, ${serverCpu("raw")} in Redis`,
    );
    console.log(
      `${pad("  publishEvent, ready envelopes")}${r.ready.toLocaleString("en")} events/s, ${cpu("ready")} µs CPU/event here, ${serverCpu("ready")} in Redis`,
    );
    console.log(
      `${pad("  publish, typed data")}${r.full.toLocaleString("en")} events/s, ${cpu("full")} µs CPU/event here, ${serverCpu("full")} in Redis`,
    );
    console.log(
      `  rounds (events/s | µs CPU/event here | in Redis): ${Object.entries(runs)
        .map(
          ([k, xs]) =>
            `${k} ${xs.map((x) => `${rate(EVENTS, x.ms)}|${(x.cpuUs / EVENTS).toFixed(2)}|${(x.serverUs / EVENTS).toFixed(2)}`).join(" ")}`,
        )
        .join(", ")}`,
    );
  } finally {
    await publisher.close();
  }
}

async function main() {
  const own = process.env.REDIS_URL ? undefined : await startOwnRedis();
  const url = process.env.REDIS_URL ?? own.url;
  const raw = new Redis(url);
  try {
    await raw.ping();
    const payloads = Array.from({ length: EVENTS }, (_, i) => data(i));
    const sizeOf = serializeEvent(createEvent("decision.made.v1", payloads[0]));
    const info = await raw.info("server");
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    console.log(
      `redis-bench: ${redactUrl(url)} (Redis ${version}), ${MODES.join(" + ")}, ${EVENTS} events of ${sizeOf.length} bytes, pipelines of ${BATCH}, window ${WINDOW}, ${ROUNDS} rounds, Node ${process.version}, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    for (const mode of MODES) await benchMode(url, raw, mode, payloads);
    // Where the full path's time goes, without I/O: building + validating, then serializing.
    const t0 = performance.now();
    const built = payloads.map((p) => createEvent("decision.made.v1", p));
    const t1 = performance.now();
    for (const e of built) serializeEvent(e);
    const t2 = performance.now();
    console.log(
      `\nbreakdown, CPU only: createEvent (build + validation) ${rate(EVENTS, t1 - t0).toLocaleString("en")} events/s, serializeEvent ${rate(EVENTS, t2 - t1).toLocaleString("en")} events/s; load average at the end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
  } finally {
    raw.disconnect();
    own?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
