// Relay throughput, commit to publish: N events are committed to the outbox, then a relay drains
// them to the in-memory backend; events/s = N / drain time. Batch sizes 1, 100, 1000, on SQLite
// (file, WAL) and on PostgreSQL when DATABASE_URL is set. "raw" is the same publisher fed directly
// with publishBatch (no database): the ratio is what the outbox costs. Also: latency of one event
// from its COMMIT to its publish with the relay idle (woken by enqueue / NOTIFY, not by polling).
// With REDIS_URL set, the SQLite relay also drains to the real Redis backend (events/s until Redis
// confirmed every PUBLISH), next to the same Redis publisher fed directly with publishBatch, in
// alternating rounds (BENCH_REDIS_ROUNDS, default 3), with the ratio against its target (≥ 0.95).
//   pnpm --filter @kaireon/events-outbox bench      (BENCH_SCALE=0.2 for a quicker run)

import { mkdtempSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, loadPublisher, MemoryBus, MemoryPublisher, silentLogger, topicNames } from "@kaireon/events-core";
import Database from "better-sqlite3";
import { createOutboxRelay, createPostgresOutbox, createSqliteOutbox } from "../dist/index.js";

const scale = Number(process.env.BENCH_SCALE ?? 1);
const sizes = { sqlite: { 1: 10_000, 100: 100_000, 1000: 200_000 }, postgres: { 1: 2_000, 100: 50_000, 1000: 100_000 } };

function events(n) {
  const time = new Date().toISOString();
  return Array.from({ length: n }, (_, i) =>
    createEvent("interaction.recorded.v1", {
      tenantId: "bench",
      customerId: `c-${i % 1000}`,
      offerId: "offer-1",
      creativeId: null,
      channelId: "email",
      interactionType: "impression",
      outcomeTypeKey: "impressed",
      campaignId: null,
      recommendationId: null,
      timestamp: time,
    }),
  );
}

function counter(bus) {
  const c = { n: 0, waiters: [] };
  bus.attach(
    {
      topics: new Set(topicNames),
      deliver: () => {
        c.n++;
        for (const w of c.waiters) if (c.n >= w.target) w.resolve();
      },
    },
    "latest",
  );
  c.until = (target) => (c.n >= target ? Promise.resolve() : new Promise((resolve) => c.waiters.push({ target, resolve })));
  return c;
}

const fmt = (n) => Math.round(n).toLocaleString("en-US");

async function raw(batch, n) {
  const bus = new MemoryBus(0);
  const publisher = new MemoryPublisher({ bus, logger: silentLogger });
  const list = events(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i += batch) await publisher.publishBatch(list.slice(i, i + batch));
  return n / ((performance.now() - t0) / 1000);
}

const load = () => (typeof os.loadavg === "function" ? os.loadavg()[0].toFixed(1) : "?");

async function drain(store, enqueueAll, batch, n) {
  const bus = new MemoryBus(0);
  const count = counter(bus);
  const list = events(n);
  await store.migrate();
  const e0 = performance.now();
  await enqueueAll(list);
  const enqueueRate = n / ((performance.now() - e0) / 1000);
  const relay = createOutboxRelay({
    store,
    publisher: new MemoryPublisher({ bus, logger: silentLogger }),
    batchSize: batch,
    retention: false,
    migrate: false,
    logger: silentLogger,
  });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await relay.start();
  await count.until(n);
  const rate = n / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(c0);
  await relay.stop();
  // Events per second of this process's CPU time: comparable between a busy and an idle machine
  // (SQLite runs in-process, so it is included; the PostgreSQL server's own CPU is not).
  return { rate, enqueueRate, cpuRate: n / ((cpu.user + cpu.system) / 1e6) };
}

async function latency(store, enqueueOne, samples = 200) {
  const bus = new MemoryBus(0);
  const count = counter(bus);
  const relay = createOutboxRelay({
    store,
    publisher: new MemoryPublisher({ bus, logger: silentLogger }),
    batchSize: 100,
    retention: false,
    logger: silentLogger,
  });
  await relay.start();
  const ms = [];
  for (let i = 0; i < samples; i++) {
    const [event] = events(1);
    const t0 = performance.now();
    await enqueueOne(event);
    await count.until(i + 1);
    ms.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 2)); // let the relay go back to sleep
  }
  await relay.stop();
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length * 0.5)], p99: ms[Math.floor(ms.length * 0.99)] };
}

function row(store, batch, n, r, baseline) {
  console.log(
    `${store.padEnd(9)} batch ${String(batch).padStart(4)}  ${fmt(n).padStart(7)} events  relay ${fmt(r.rate).padStart(8)} ev/s ` +
      `(${fmt(r.cpuRate).padStart(8)} ev/CPU-s)  enqueue ${fmt(r.enqueueRate).padStart(8)} ev/s  raw publishBatch ${fmt(baseline).padStart(9)} ev/s  ` +
      `ratio ${(r.rate / baseline).toFixed(3)}  load ${load()}`,
  );
}

async function sqlite() {
  const dir = mkdtempSync(join(tmpdir(), "outbox-bench-"));
  try {
    for (const batch of [1, 100, 1000]) {
      const n = Math.max(1000, Math.round(sizes.sqlite[batch] * scale));
      const db = new Database(join(dir, `b${batch}.db`));
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      const store = createSqliteOutbox({ db });
      const r = await drain(
        store,
        async (list) => {
          for (let i = 0; i < list.length; i += 1000) db.transaction(() => store.enqueue(db, list.slice(i, i + 1000)))();
        },
        batch,
        n,
      );
      row("sqlite", batch, n, r, await raw(batch, n));
      db.close();
    }
    const db = new Database(join(dir, "latency.db"));
    db.pragma("journal_mode = WAL");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    const l = await latency(store, async (e) => db.transaction(() => store.enqueue(db, e))());
    console.log(
      `sqlite    commit → publish latency, idle relay (woken by enqueue): p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(url) {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  const writer = new pg.Pool({ connectionString: url, max: 4 });
  const tx = async (fn) => {
    const c = await writer.connect();
    try {
      await c.query("BEGIN");
      await fn(c);
      await c.query("COMMIT");
    } finally {
      c.release();
    }
  };
  try {
    for (const batch of [1, 100, 1000]) {
      const n = Math.max(500, Math.round(sizes.postgres[batch] * scale));
      const table = `outbox_bench_${process.pid}_${batch}`;
      const store = createPostgresOutbox({ pool, table });
      const writerStore = createPostgresOutbox({ pool: writer, table });
      const r = await drain(
        store,
        async (list) => {
          for (let i = 0; i < list.length; i += 1000) await tx((c) => writerStore.enqueue(c, list.slice(i, i + 1000)));
        },
        batch,
        n,
      );
      row("postgres", batch, n, r, await raw(batch, n));
      await pool.query(`DROP TABLE ${table}, ${table}_schema`);
    }
    const table = `outbox_bench_${process.pid}_latency`;
    const store = createPostgresOutbox({ pool, table });
    const writerStore = createPostgresOutbox({ pool: writer, table }); // another "process": only NOTIFY wakes the relay
    await store.migrate();
    const l = await latency(store, (e) => tx((c) => writerStore.enqueue(c, e)));
    console.log(`postgres  commit → publish latency, idle relay (woken by NOTIFY): p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms`);
    await pool.query(`DROP TABLE ${table}, ${table}_schema`);
  } finally {
    await pool.end();
    await writer.end();
  }
}

async function untilPublished(publisher, n) {
  while (publisher.metrics().published < n) await new Promise((r) => setTimeout(r, 2));
}

const REDIS_RATIO_TARGET = 0.95;

async function redis(url) {
  const env = { EVENT_PUBLISHER: "redis", REDIS_URL: url };
  const dir = mkdtempSync(join(tmpdir(), "outbox-bench-redis-"));
  // Rounds alternate relay and direct, so a machine whose load drifts biases neither; CPU µs per
  // event (this process: the relay, SQLite and the Redis client) is the figure a loaded machine
  // does not distort much.
  const rounds = Number(process.env.BENCH_REDIS_ROUNDS ?? 3);
  const cpuPerEvent = (c, n) => (c.user + c.system) / n;
  try {
    for (const batch of [1, 100, 1000]) {
      const n = Math.max(1000, Math.round(sizes.sqlite[batch] * scale));
      const relayRates = [];
      const directRates = [];
      for (let round = 1; round <= rounds; round++) {
        const db = new Database(join(dir, `b${batch}-${round}.db`));
        db.pragma("journal_mode = WAL");
        db.pragma("synchronous = NORMAL");
        const store = createSqliteOutbox({ db });
        await store.migrate();
        const list = events(n);
        for (let i = 0; i < list.length; i += 1000) db.transaction(() => store.enqueue(db, list.slice(i, i + 1000)))();
        const publisher = await loadPublisher(env, { logger: silentLogger });
        await publisher.ready();
        const relay = createOutboxRelay({ store, publisher, batchSize: batch, retention: false, migrate: false, logger: silentLogger });
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        await relay.start();
        await untilPublished(publisher, n);
        const rate = n / ((performance.now() - t0) / 1000);
        const relayCpu = cpuPerEvent(process.cpuUsage(c0), n);
        await relay.stop();
        await publisher.close();
        db.close();
        const direct = await loadPublisher(env, { logger: silentLogger });
        await direct.ready();
        const fresh = events(n);
        const d0 = performance.now();
        const dc0 = process.cpuUsage();
        for (let i = 0; i < n; i += batch) await direct.publishBatch(fresh.slice(i, i + batch));
        const baseline = n / ((performance.now() - d0) / 1000);
        const directCpu = cpuPerEvent(process.cpuUsage(dc0), n);
        await direct.close();
        relayRates.push(rate);
        directRates.push(baseline);
        console.log(
          `sqlite→redis batch ${String(batch).padStart(4)} round ${round}  ${fmt(n).padStart(7)} events  relay ${fmt(rate).padStart(8)} ev/s (${relayCpu.toFixed(1)} µs CPU/event)  ` +
            `redis publishBatch directly ${fmt(baseline).padStart(8)} ev/s (${directCpu.toFixed(1)} µs CPU/event)  ratio ${(rate / baseline).toFixed(3)}  load ${load()}`,
        );
      }
      const mean = (l) => l.reduce((a, b) => a + b, 0) / l.length;
      const ratio = mean(relayRates) / mean(directRates);
      console.log(
        `sqlite→redis batch ${String(batch).padStart(4)} relay / redis publisher fed directly = ${ratio.toFixed(3)} (mean of ${rounds} rounds) ${ratio >= REDIS_RATIO_TARGET ? `≥ ${REDIS_RATIO_TARGET} target met` : `< ${REDIS_RATIO_TARGET} target NOT met`}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`outbox relay → in-memory backend (node ${process.version}, ${os.cpus().length} CPUs, load ${load()}, scale ${scale})`);
await sqlite();
if (process.env.DATABASE_URL) await postgres(process.env.DATABASE_URL);
else console.log("postgres: not run (DATABASE_URL not set; run through tooling/with-services.sh)");
if (process.env.REDIS_URL) await redis(process.env.REDIS_URL);
else console.log("redis: not run (REDIS_URL not set; run through tooling/with-services.sh)");
