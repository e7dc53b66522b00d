#!/usr/bin/env node
// `pnpm chaos`: the end-to-end ledger of issue 17. For each run (a backend on a store) it starts the
// built demo (apps/demo/dist/main.js) with its backend behind a Toxiproxy proxy, drives it with the
// demo's own traffic generator while the wire faults of @kaireon/events-testkit cycle on that proxy,
// heals the link, waits for the relay to drain (/health), stops the demo, and then compares what the
// store committed (read from the SQLite file / PostgreSQL with their own CLIs) with what an
// independent consumer reads straight from the service (redis-cli, Apache's Java Kafka client, boto3):
//   ledger <backend>: <stored> stored, <distinct> delivered, <missing> missing, <dup> duplicates, <ooo> out of order, <failed> failed requests
// Exit code 1 when a durable backend misses events or any request failed (and, with
// CHAOS_ORDER_FAILS=1, when a backend that orders reorders). README.md in this folder has the variables.

import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compareLedger, ledgerLine } from "./ledger.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const demoDist = join(root, "apps/demo/dist");
const testkitDist = join(root, "packages/events-testkit/dist");

for (const [file, what] of [
  [join(demoDist, "main.js"), "the demo"],
  [join(demoDist, "traffic.js"), "the demo's traffic generator"],
  [join(testkitDist, "toxiproxy.js"), "@kaireon/events-testkit"],
]) {
  if (!existsSync(file))
    configError(`${what} is not built (${file}) — run: pnpm turbo run build --filter=@kaireon/demo... --filter=@kaireon/events-testkit`);
}
// The testkit's index also loads its vitest suites; the proxy client alone needs nothing else.
const { Toxiproxy, wireFaults } = await import(join(testkitDist, "toxiproxy.js"));
const { runTraffic } = await import(join(demoDist, "traffic.js"));

const env = process.env;
const seconds = number("CHAOS_SECONDS", 30);
const faultMs = number("CHAOS_FAULT_MS", 3000);
const healMs = number("CHAOS_HEAL_MS", 1500);
const drainSeconds = number("CHAOS_DRAIN_SECONDS", 180);
const concurrency = number("CHAOS_CONCURRENCY", 4);
const kinesisOrdering = env.CHAOS_KINESIS_ORDERING?.trim() || "strict";
const orderFails = env.CHAOS_ORDER_FAILS === "1";
const scenarios = list("CHAOS_SCENARIOS", Object.keys(wireFaults));
for (const name of scenarios)
  if (!(name in wireFaults)) configError(`CHAOS_SCENARIOS: unknown scenario "${name}" — one of ${Object.keys(wireFaults).join(", ")}`);
if (!["strict", "none"].includes(kinesisOrdering)) configError(`CHAOS_KINESIS_ORDERING must be strict or none, got "${kinesisOrdering}"`);

/** What each backend promises, and how the demo is pointed at it. */
const backends = {
  "redis-streams": { durable: true, orders: "per key within a stream (XADD order)" },
  "redis-pubsub": { durable: false, orders: "per key on the subscriber's connection (a figure: at most once is not a target)" },
  kafka: { durable: true, orders: "per key within a partition" },
  kinesis: {
    durable: true,
    orders: kinesisOrdering === "strict" ? "per partition key within its shard (KINESIS_ORDERING=strict)" : undefined,
  },
  // moto's EventBridge → SQS delivery and SQS receive are slow (tens of events a second on a busy
  // 2-core machine): a lighter load keeps the drain and the read within the run.
  eventbridge: { durable: true, orders: undefined, traffic: { concurrency: 1, thinkMs: 250 } },
};
const defaultRuns = "redis-streams/sqlite,redis-streams/postgres,redis-pubsub/sqlite,kafka/sqlite,kinesis/postgres,eventbridge/sqlite";
const runs = list("CHAOS_RUNS", defaultRuns.split(",")).map((spec) => {
  const [backend, store = "sqlite"] = spec.split("/");
  if (!(backend in backends))
    configError(`CHAOS_RUNS: unknown backend "${backend}" in "${spec}" — one of ${Object.keys(backends).join(", ")}`);
  if (!["sqlite", "postgres"].includes(store)) configError(`CHAOS_RUNS: store must be sqlite or postgres in "${spec}"`);
  return { backend, store };
});

// ── What the runs need from the environment (tooling/with-services.sh exports it) ─────────────────
const needs = { TOXIPROXY_URL: "Toxiproxy" };
for (const { backend, store } of runs) {
  if (backend.startsWith("redis")) needs.REDIS_URL = "Redis";
  if (backend === "kafka") {
    needs.KAFKA_BROKERS = "Apache Kafka";
    needs.KAFKA_TEST_PROXIED_BROKERS = "the Kafka listener advertised through the proxy `kafka`";
  }
  if (backend === "kinesis" || backend === "eventbridge") needs.AWS_ENDPOINT_URL = "moto";
  if (store === "postgres") needs.DATABASE_URL = "PostgreSQL";
}
const absent = Object.keys(needs).filter((name) => !env[name]?.trim());
if (absent.length > 0) {
  const kafkaHint = absent.includes("KAFKA_TEST_PROXIED_BROKERS")
    ? " A running broker without the PROXIED listener (a shared one) cannot be faulted: let `pnpm chaos` start a private broker " +
      "and Toxiproxy, `env -u KAFKA_BROKERS -u TOXIPROXY_URL pnpm chaos` (the other services set are used as they are), " +
      "or leave it out with CHAOS_RUNS."
    : "";
  configError(
    `${absent.map((n) => `${n} (${needs[n]})`).join(", ")} not set: run it as \`pnpm chaos\` (which starts the services through ` +
      `tooling/with-services.sh) or export them.${kafkaHint}`,
  );
}
const kafkaLib = (() => {
  if (!runs.some((r) => r.backend === "kafka")) return undefined;
  const cache = env.KAIREON_CACHE_DIR || join(env.HOME ?? "", ".cache/kaireon-events");
  const preferred = env.KAFKA_TEST_VERSION && join(cache, `kafka-${env.KAFKA_TEST_VERSION}/lib`);
  if (preferred && existsSync(preferred)) return preferred;
  const found = existsSync(cache) ? readdirSync(cache).find((d) => d.startsWith("kafka-") && existsSync(join(cache, d, "lib"))) : undefined;
  if (!found)
    configError(
      `no Kafka jars under ${cache}/kafka-*/lib (tooling/services/kafka.sh puts them there): start Kafka through tooling/with-services.sh`,
    );
  return join(cache, found, "lib");
})();
const motoPython = (() => {
  if (!runs.some((r) => r.backend === "kinesis" || r.backend === "eventbridge")) return undefined;
  const cache = env.KAIREON_CACHE_DIR || join(env.HOME ?? "", ".cache/kaireon-events");
  const found = existsSync(cache)
    ? readdirSync(cache).find((d) => d.startsWith("moto-") && existsSync(join(cache, d, "bin/python")))
    : undefined;
  if (!found)
    configError(
      `no moto venv under ${cache}/moto-* (tooling/services/moto.sh makes it; boto3 comes with it): start moto through tooling/with-services.sh`,
    );
  return join(cache, found, "bin/python");
})();

// ── Cleanup: every process, proxy, database and folder this run made, whatever happens ────────────
const cleanups = [];
/** Undoes, newest first, what was made since the stack had `depth` steps. */
async function cleanup(depth = 0) {
  while (cleanups.length > depth)
    await cleanups
      .pop()()
      .catch((error) => log(`cleanup: ${redact(error.message)}`));
}
const children = new Set();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    for (const child of children) child.kill("SIGKILL");
    cleanup().finally(() => process.exit(130));
  });
}

const toxiproxy = new Toxiproxy(env.TOXIPROXY_URL.trim());
const stamp = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const results = [];
const started = Date.now();
for (const spec of runs) {
  const depth = cleanups.length;
  try {
    results.push(await ledgerRun(spec));
  } catch (error) {
    const message = redact(error.message);
    log(`${spec.backend}/${spec.store}: ${message}`);
    results.push({ line: `ledger ${spec.backend}/${spec.store}: not measured — ${message.split("\n")[0]}`, notes: [], failed: true });
  } finally {
    await cleanup(depth);
  }
}

console.log("");
let failed = false;
for (const r of results) {
  console.log(r.line);
  for (const note of r.notes) console.log(`  ${note}`);
  failed ||= r.failed;
}
console.log(
  `[chaos] ${results.length} runs, ${seconds}s of faults each, ${((Date.now() - started) / 1000).toFixed(0)}s in all${failed ? " — FAILED" : ""}`,
);
process.exit(failed ? 1 : 0);

// ── One run ────────────────────────────────────────────────────────────────────────────────────────
async function ledgerRun({ backend, store }) {
  const name = `${backend}/${store}`;
  const id = `chaos-${stamp}-${backend}-${store}`;
  const dir = mkdtempSync(join(tmpdir(), `${id}-`));
  // Kept when the run fails or breaks off (the demo's log, what was stored, what arrived), or with CHAOS_KEEP=1.
  let keep = true;
  cleanups.push(async () => {
    if (keep) log(`${name}: kept ${dir} (demo.log, stored.json, delivered.json)`);
    else rmSync(dir, { recursive: true, force: true });
  });
  log(`${name}: run folder ${dir}`);
  const t0 = Date.now();
  const demoEnv = {
    ...baseEnv(),
    PORT: String(await freePort()),
    DEMO_HOST: "127.0.0.1",
    DEMO_TAIL: "false",
    DEMO_LIVE_VIEW: "false",
    DEMO_DATA_DIR: join(dir, "data"),
    // The library's retry ceiling is 5 minutes; a run that cycles faults for seconds would then drain
    // for minutes after the last one. Attempts are unchanged (OUTBOX_MAX_ATTEMPTS).
    OUTBOX_RETRY_MAX_MS: env.OUTBOX_RETRY_MAX_MS || "5000",
  };

  // The store.
  let databaseUrl;
  if (store === "postgres") {
    const db = id.replace(/\W/g, "_");
    await psql(env.DATABASE_URL, `CREATE DATABASE ${db}`);
    cleanups.push(() => psql(env.DATABASE_URL, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
    const url = new URL(env.DATABASE_URL);
    url.pathname = `/${db}`;
    databaseUrl = url.toString();
    demoEnv.DATABASE_URL = databaseUrl;
  } else {
    delete demoEnv.DATABASE_URL;
  }

  // The backend, behind its proxy; the independent consumer reads the service directly.
  const topics = ["interaction.recorded.v1", "decision.made.v1"];
  let proxy;
  let read;
  if (backend === "redis-streams" || backend === "redis-pubsub") {
    const redis = new URL(env.REDIS_URL);
    proxy = await ownProxy(id, `${redis.hostname}:${redis.port || 6379}`);
    const proxied = new URL(env.REDIS_URL);
    proxied.host = proxy.listen;
    const prefix = `${id}:`;
    Object.assign(demoEnv, {
      EVENT_PUBLISHER: "redis",
      REDIS_URL: proxied.toString(),
      REDIS_MODE: backend === "redis-streams" ? "streams" : "pubsub",
      REDIS_CHANNEL_PREFIX: prefix,
    });
    if (backend === "redis-streams") {
      cleanups.push(() => run("redis-cli", ["-u", env.REDIS_URL, "DEL", ...topics.map((t) => prefix + t)]));
      read = () => readRedisStreams(topics.map((t) => prefix + t));
    } else {
      read = await subscribeRedis(`${prefix}*`, join(dir, "pubsub.jsonl"));
    }
  } else if (backend === "kafka") {
    proxy = await toxiproxy.proxy("kafka");
    await proxy.heal();
    const prefix = `${id}.`;
    Object.assign(demoEnv, { EVENT_PUBLISHER: "kafka", KAFKA_BROKERS: env.KAFKA_TEST_PROXIED_BROKERS, KAFKA_TOPIC_PREFIX: prefix });
    read = () => readKafka(topics.map((t) => prefix + t));
  } else {
    const moto = new URL(env.AWS_ENDPOINT_URL);
    proxy = await ownProxy(id, `${moto.hostname}:${moto.port || 80}`);
    for (const key of Object.keys(demoEnv)) if (key.startsWith("AWS_ENDPOINT_URL_")) delete demoEnv[key];
    delete demoEnv.KINESIS_ENDPOINT_URL;
    delete demoEnv.EVENTBRIDGE_ENDPOINT_URL;
    demoEnv.AWS_ENDPOINT_URL = `http://${proxy.listen}`;
    if (backend === "kinesis") {
      await aws(["kinesis-create", id, "2"]);
      cleanups.push(() => aws(["kinesis-delete", id]));
      Object.assign(demoEnv, { EVENT_PUBLISHER: "kinesis", KINESIS_STREAM: id, KINESIS_ORDERING: kinesisOrdering });
      read = async (n) => jsonLines(await aws(["kinesis-read", id], readTimeoutMs(n)));
    } else {
      await aws(["eb-create", id, topics.join(",")]);
      cleanups.push(() => aws(["eb-delete", id]));
      Object.assign(demoEnv, { EVENT_PUBLISHER: "eventbridge", EVENTBRIDGE_BUS: id });
      delete demoEnv.EVENTBRIDGE_QUEUE_URL;
      read = async (n) => jsonLines(await aws(["eb-read", id], readTimeoutMs(n)));
    }
  }

  // The demo, then traffic while the faults cycle.
  const demo = startDemo(demoEnv, join(dir, "demo.log"));
  const url = `http://127.0.0.1:${demoEnv.PORT}`;
  await waitForHealth(url, demo);
  log(
    `${name}: demo up on ${url}; ${seconds}s of traffic while ${scenarios.join(", ")} cycle (${faultMs} ms each, ${healMs} ms healed between)`,
  );
  let trafficDone = false;
  const latency = timeRequests();
  const traffic = runTraffic({
    url,
    journeys: 0,
    durationMs: seconds * 1000,
    tenants: 3,
    customers: 200,
    concurrency: backends[backend].traffic?.concurrency ?? concurrency,
    seed: 17,
    thinkMs: backends[backend].traffic?.thinkMs ?? 20,
  }).finally(() => {
    trafficDone = true;
  });
  const cycled = [];
  for (let i = 0; !trafficDone; i++) {
    const scenario = scenarios[i % scenarios.length];
    const heal = await proxy.apply(wireFaults[scenario]);
    cycled.push(scenario);
    latency.phase = scenario;
    await Promise.race([sleep(faultMs), traffic]);
    await heal();
    latency.phase = "healed";
    await Promise.race([sleep(healMs), traffic]);
  }
  await proxy.heal();
  const report = await traffic;
  latency.stop();
  log(
    `${name}: traffic done, ${report.requests} requests (${report.failures} failed, by status ${JSON.stringify(report.byStatus)}); draining`,
  );

  // Drain: the relay's backlog on /health reaches 0, bounded.
  const drainStart = Date.now();
  let backlog = await drained(url, drainSeconds * 1000);
  const drainMs = Date.now() - drainStart;
  await stopDemo(demo);
  if (backlog !== 0) log(`${name}: the relay did not drain within ${drainSeconds}s (backlog ${backlog})`);

  // The ledger.
  const { events, rowsWithoutOutbox, statuses } = await readStore(store, databaseUrl, join(demoEnv.DEMO_DATA_DIR, "demo.sqlite"));
  backlog = statuses.pending ?? 0;
  writeFileSync(join(dir, "stored.json"), JSON.stringify(events));
  const deliveries = await read(events.length);
  writeFileSync(join(dir, "delivered.json"), JSON.stringify(deliveries));
  const counts = compareLedger(events, deliveries);
  const spec = backends[backend];
  const line = ledgerLine(name, counts, report.failures);
  const notes = [];
  if (backend === "redis-pubsub") {
    notes.push(
      "redis-pubsub is at most once: Redis keeps nothing, a subscriber gets what is published while it is connected. The faults sit on " +
        "the publisher's link, where a failed PUBLISH is retried by the outbox relay: missing = events lost on the way (allowed, not a " +
        "target); duplicates = re-sends whose answer was lost. A subscriber's own link dropping would lose events too (not faulted here).",
    );
  }
  notes.push(
    spec.orders
      ? `order checked: ${spec.orders}, the first delivery of each event against its outbox order`
      : `order not promised by ${backend === "kinesis" ? "KINESIS_ORDERING=none" : "EventBridge → SQS"}: out of order is a figure, not a target`,
  );
  notes.push(`request latency by the fault active when it started (p50/p99/max ms): ${latency.summary()}`);
  notes.push(
    `outbox after the run: ${JSON.stringify(statuses)}; drained in ${(drainMs / 1000).toFixed(1)}s; ${report.requests} requests ` +
      `${JSON.stringify(report.byStatus)}; faults: ${cycled.join(" ")}; run ${((Date.now() - t0) / 1000).toFixed(0)}s`,
  );
  if (rowsWithoutOutbox > 0) notes.push(`DEFECT: ${rowsWithoutOutbox} stored rows have no outbox entry`);
  if (counts.unexpected > 0) notes.push(`${counts.unexpected} deliveries of ids the store does not hold`);
  if (counts.missing > 0) {
    const sample = counts.missingEvents
      .slice(0, 5)
      .map((e) => `${e.topic} ${e.key} seq ${e.seq}`)
      .join("; ");
    notes.push(`missing, first ones: ${sample}`);
  }
  if (counts.outOfOrder > 0) notes.push(`out of order, first ones: ${counts.outOfOrderSamples.join("; ")}`);
  const orderMissed = spec.orders !== undefined && spec.durable && counts.outOfOrder > 0;
  if (orderMissed) {
    notes.push(
      `ORDER TARGET MISSED: ${counts.outOfOrder} events of an ordering backend arrived out of order` +
        (orderFails ? "" : " (fails the run with CHAOS_ORDER_FAILS=1)"),
    );
  }
  // The exit code follows the durable promise (nothing missing, no request failed); order joins it
  // with CHAOS_ORDER_FAILS=1. A run whose order is a figure (pub/sub) still fails on a failed request.
  const failed =
    report.failures > 0 || rowsWithoutOutbox > 0 || (spec.durable && (counts.missing > 0 || backlog > 0)) || (orderFails && orderMissed);
  keep = failed || orderMissed || env.CHAOS_KEEP === "1";
  log(line);
  return { line, notes, failed };
}

/**
 * The traffic generator calls the global fetch: wrapped for the run, it times each request by the
 * fault active when it started — the demo's promise is that a faulted broker never slows a request.
 */
function timeRequests() {
  const original = globalThis.fetch;
  const samples = new Map();
  const state = {
    phase: "healed",
    stop() {
      globalThis.fetch = original;
    },
    summary() {
      const parts = [];
      for (const [phase, ms] of samples) {
        ms.sort((a, b) => a - b);
        const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(0);
        parts.push(`${phase} ${q(0.5)}/${q(0.99)}/${ms[ms.length - 1].toFixed(0)}`);
      }
      return parts.join(", ");
    },
  };
  globalThis.fetch = async (input, init) => {
    if (init?.method !== "POST") return original(input, init);
    const phase = state.phase;
    const t = performance.now();
    try {
      return await original(input, init);
    } finally {
      const list = samples.get(phase) ?? [];
      list.push(performance.now() - t);
      samples.set(phase, list);
    }
  };
  return state;
}

// ── The demo ────────────────────────────────────────────────────────────────────────────────────────
function baseEnv() {
  const out = { ...env };
  // Each run sets its own; a user's would change what is measured.
  for (const key of ["EVENT_PUBLISHER", "DEMO_LIVE_TOKEN", "REDIS_MODE", "REDIS_CHANNEL_PREFIX", "KAFKA_TOPIC_PREFIX", "DEMO_RELAY"])
    delete out[key];
  return out;
}

function startDemo(demoEnv, logFile) {
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [join(demoDist, "main.js")], { cwd: root, env: demoEnv, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  child.exited = once(child, "exit").then(([code, signal]) => {
    children.delete(child);
    return { code, signal };
  });
  child.logFile = logFile;
  cleanups.push(async () => {
    if (children.has(child)) child.kill("SIGKILL");
  });
  return child;
}

async function waitForHealth(url, demo) {
  const deadline = Date.now() + 60_000;
  let exited;
  demo.exited.then((e) => {
    exited = e;
  });
  while (Date.now() < deadline) {
    if (exited) fail(`the demo exited (${JSON.stringify(exited)}) before it answered:\n${tail(demo.logFile)}`);
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(200);
  }
  fail(`the demo did not answer ${url}/health within 60 s:\n${tail(demo.logFile)}`);
}

/** The relay's backlog once it reaches 0, or the last one seen when `ms` have passed. */
async function drained(url, ms) {
  const deadline = Date.now() + ms;
  let nextReport = Date.now() + 15_000;
  let backlog = -1;
  while (Date.now() < deadline) {
    const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) })
      .then((r) => r.json())
      .catch(() => undefined);
    const relay = health?.relay;
    if (relay && typeof relay === "object" && typeof relay.backlog === "number") {
      if (relay.backlog === 0) return 0;
      if (Date.now() >= nextReport) {
        log(`draining: backlog ${relay.backlog}, sent ${relay.sent}, retried ${relay.retried}, dead ${relay.dead}`);
        nextReport = Date.now() + 15_000;
      }
      backlog = relay.backlog;
    }
    await sleep(500);
  }
  return backlog;
}

async function stopDemo(demo) {
  demo.kill("SIGTERM");
  const stopped = await Promise.race([demo.exited, sleep(30_000).then(() => undefined)]);
  if (!stopped) {
    log("the demo did not exit within 30 s of SIGTERM: killed");
    demo.kill("SIGKILL");
    await demo.exited;
  } else if (stopped.code !== 0) {
    log(`the demo exited with ${JSON.stringify(stopped)}:\n${tail(demo.logFile)}`);
  }
}

// ── The store, read with its own CLI ───────────────────────────────────────────────────────────────
async function readStore(store, databaseUrl, sqliteFile) {
  const rowsSql =
    "SELECT event_id FROM interaction_history WHERE event_id IS NOT NULL UNION ALL SELECT event_id FROM decisions WHERE event_id IS NOT NULL";
  let rows;
  let outbox;
  if (store === "postgres") {
    rows = tsv(await psql(databaseUrl, rowsSql));
    outbox = tsv(await psql(databaseUrl, "SELECT seq, event_id, topic, partition_key, status FROM kaireon_outbox"));
  } else {
    rows = tsv(await run("sqlite3", ["-readonly", "-separator", "\t", sqliteFile, `${rowsSql};`]));
    outbox = tsv(
      await run("sqlite3", [
        "-readonly",
        "-separator",
        "\t",
        sqliteFile,
        "SELECT seq, event_id, topic, partition_key, status FROM kaireon_outbox_rows;",
      ]),
    );
  }
  const byId = new Map();
  const statuses = {};
  for (const [seq, eventId, topic, key, status] of outbox) {
    byId.set(eventId.toLowerCase(), { id: eventId.toLowerCase(), seq: Number(seq), topic, key });
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  const events = [];
  let rowsWithoutOutbox = 0;
  for (const [eventId] of rows) {
    const event = byId.get(eventId.toLowerCase());
    if (event) events.push(event);
    else rowsWithoutOutbox++;
  }
  return { events, rowsWithoutOutbox, statuses };
}

function psql(url, sql) {
  return run("psql", ["-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]);
}

function tsv(text) {
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => l.split("\t"));
}

// ── The independent consumers ──────────────────────────────────────────────────────────────────────
async function readRedisStreams(keys) {
  const deliveries = [];
  for (const key of keys) {
    let start = "-";
    for (;;) {
      const page = JSON.parse(
        (await run("redis-cli", ["-u", env.REDIS_URL, "--json", "XRANGE", key, start, "+", "COUNT", "5000"])) || "[]",
      );
      if (!Array.isArray(page) || page.length === 0) break;
      for (const [entryId, fields] of page) {
        const json = fields[fields.indexOf("event") + 1];
        deliveries.push({ id: JSON.parse(json).id, part: key, pos: entryId });
      }
      start = `(${page[page.length - 1][0]}`;
    }
  }
  return deliveries;
}

/** redis-cli PSUBSCRIBE from now on, straight to Redis; the returned function ends it and reads. */
async function subscribeRedis(pattern, file) {
  const out = createWriteStream(file);
  // stdbuf: redis-cli buffers its stdout when it is not a terminal, and a message still in that
  // buffer when it is stopped would count as missing.
  const child = spawn("stdbuf", ["-oL", "redis-cli", "-u", env.REDIS_URL, "--json", "PSUBSCRIBE", pattern], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const exited = once(child, "exit").then(() => children.delete(child));
  cleanups.push(async () => {
    if (children.has(child)) child.kill("SIGKILL");
  });
  child.stdout.pipe(out);
  // Subscribed once Redis confirms it; only then may the demo publish.
  await new Promise((resolveSubscribed, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error("redis-cli PSUBSCRIBE: no confirmation within 10 s")), 10_000);
    child.stdout.on("data", function onData(chunk) {
      seen += chunk;
      if (seen.includes('"psubscribe"')) {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        resolveSubscribed();
      }
    });
  });
  return async () => {
    await sleep(1000);
    child.kill("SIGTERM");
    await exited;
    await new Promise((r) => out.end(r));
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.startsWith('["pmessage"'))
      .map((l) => ({ id: JSON.parse(JSON.parse(l)[3]).id, part: "pubsub" }));
  };
}

async function readKafka(topics) {
  const text = await run(
    "java",
    [
      // Quiet on both logging stacks: 3.x's log4j 1, and 4.x's log4j2, whose status logger would
      // otherwise print "Reconfiguration failed" on stdout, among the records.
      "-Dlog4j.configuration=file:/dev/null",
      "-Dlog4j2.StatusLogger.level=OFF",
      "-Dlog4j2.level=OFF",
      "-cp",
      `${kafkaLib}/*`,
      join(here, "KafkaLedgerReader.java"),
      env.KAFKA_BROKERS,
      topics.join(","),
    ],
    { timeoutMs: 180_000 },
  );
  return tsv(text)
    .filter((fields) => fields.length >= 5) // a record line; anything else a library printed is not one
    .map(([topic, partition, offset, , value]) => ({ id: JSON.parse(value).id, part: `${topic}/${partition}`, pos: offset }));
}

function aws(args, timeoutMs = 180_000) {
  return run(motoPython, [join(here, "aws-ledger.py"), ...args], { timeoutMs });
}

/** moto's SQS hands out some tens of messages a second on a busy machine: a long soak's read needs longer. */
function readTimeoutMs(events) {
  return 180_000 + 100 * events;
}

function jsonLines(text) {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
}

// ── Small helpers ──────────────────────────────────────────────────────────────────────────────────
async function ownProxy(id, upstream) {
  const proxy = await toxiproxy.createProxy(id, upstream);
  cleanups.push(() => proxy.delete());
  return proxy;
}

function run(command, args, { timeoutMs = 60_000 } = {}) {
  return new Promise((resolveRun, reject) => {
    const child = execFile(
      command,
      args,
      { maxBuffer: 512 * 1024 * 1024, timeout: timeoutMs, encoding: "utf8" },
      (error, stdout, stderr) => {
        children.delete(child);
        const why = error?.killed ? `no answer within ${timeoutMs / 1000} s (killed)` : stderr.trim() || error?.message;
        if (error) reject(new Error(`${command} ${redact(args.slice(0, 3).join(" "))}…: ${redact(why)}`));
        else resolveRun(stdout);
      },
    );
    children.add(child);
  });
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function tail(file) {
  try {
    return redact(readFileSync(file, "utf8").split("\n").slice(-30).join("\n"));
  } catch {
    return "(no log)";
  }
}

/** Passwords in URLs never reach the output. */
function redact(text) {
  return String(text).replace(/(\/\/[^:/@\s]+:)[^@\s]+@/g, "$1***@");
}

function number(name, fallback) {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) configError(`${name} must be a non-negative number, got "${raw}"`);
  return n;
}

function list(name, fallback) {
  const raw = env[name]?.trim();
  return raw
    ? raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : fallback;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function log(message) {
  console.log(`[chaos] ${new Date().toISOString().slice(11, 19)} ${message}`);
}

/** Ends the run at hand (its cleanup runs; the next run starts). */
function fail(message) {
  throw new Error(message);
}

/** Before any run: nothing to clean up yet. */
function configError(message) {
  console.error(`[chaos] ${message}`);
  process.exit(2);
}
