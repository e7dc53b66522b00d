// Load benchmark (a script, not a test): POST /api/v1/respond on loopback with autocannon, against
// demo servers started one after the other in this same run — events disabled (rows only), and events
// enabled (row + outbox entry in one transaction) with the relay on a worker thread (the default), on
// the server's event loop, and in its own process — all draining to the backend. Prints requests/s
// and p50/p99 of each, the server's CPU per request, the ratios to the events-disabled run (overall
// and per round), checks that every event of the run was relayed, and the end-to-end latency of the
// events (event time → received) as an independent subscriber of the backend sees them: ioredis
// itself on Redis (SUBSCRIBE, or XREAD on Redis Streams), core's subscriber on any other broker. The
// in-memory backend's bus lives inside the server: no outside subscriber can see it, so n/a there.
//
//   pnpm --filter @kaireon/demo bench                      # backend: REDIS_URL when set, else in-memory
//   BENCH_SECONDS=20 BENCH_CONNECTIONS=32 BENCH_MODES=off,thread pnpm --filter @kaireon/demo bench
//
// The servers never run at the same time (the machine may have 2 cores); rounds alternate the modes so
// a drift of the machine's speed biases none of them. BENCH_SECONDS (12), BENCH_CONNECTIONS (16),
// BENCH_ROUNDS (4), BENCH_MODES (off,thread,inline,separate).

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSubscriber, silentLogger, topicNames } from "@kaireon/events-core";
import autocannon from "autocannon";
import { Redis } from "ioredis";

const here = dirname(fileURLToPath(import.meta.url));
const main = join(here, "..", "dist", "main.js");
const seconds = Number(process.env.BENCH_SECONDS ?? 12);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const backendEnv = process.env.EVENT_PUBLISHER ? {} : process.env.REDIS_URL ? { EVENT_PUBLISHER: "redis" } : { EVENT_PUBLISHER: "memory" };

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** utime + stime of a process and all its threads, in µs (Linux /proc; undefined elsewhere). */
function cpuMicros(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1_000_000) / clockTicks;
  } catch {
    return undefined;
  }
}
const clockTicks = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim()) || 100;

const quantile = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : Number.NaN;

/**
 * An independent subscriber of the backend the server publishes to: records, for every event whose
 * event time falls in the measured window, now − event time. Started before the warm-up, so it is
 * connected and subscribed before the first event of the window.
 */
async function startProbe(env) {
  const samples = [];
  let window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
  let received = 0;
  const record = (json) => {
    const now = Date.now();
    received++;
    const time = Date.parse(JSON.parse(json).time);
    if (time >= window.from && time <= window.to) samples.push(now - time);
  };
  const backend = env.EVENT_PUBLISHER;
  let close;
  let how;
  if (backend === "memory") return undefined;
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
  return {
    how,
    measure(from, to) {
      window = { from, to };
    },
    stats() {
      const sorted = [...samples].sort((a, b) => a - b);
      return {
        how,
        received,
        samples: sorted.length,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        max: sorted.at(-1) ?? Number.NaN,
      };
    },
    close,
  };
}

async function startServer(extraEnv) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "kaireon-demo-bench-"));
  const env = {
    ...process.env,
    ...backendEnv,
    PORT: String(port),
    DEMO_DATA_DIR: dataDir,
    DEMO_TAIL: "false",
    DEMO_LIVE_VIEW: "false",
    ...extraEnv,
  };
  const child = spawn(process.execPath, [main], { env, stdio: ["ignore", "pipe", "inherit"] });
  // DEMO_RELAY=separate: the relay runs in its own process (relay-main.js) on the same database.
  const relayChild =
    extraEnv.DEMO_RELAY === "separate"
      ? spawn(process.execPath, [join(here, "..", "dist", "relay-main.js")], {
          env,
          stdio: ["ignore", "pipe", "inherit"],
        })
      : undefined;
  let relayOutput = "";
  relayChild?.stdout.on("data", (d) => {
    relayOutput += d;
  });
  let output = "";
  child.stdout.on("data", (d) => {
    output += d;
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`demo exited: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    env,
    /** CPU the server (and its relay process) have used so far, µs. */
    cpu: () => (cpuMicros(child.pid) ?? Number.NaN) + (relayChild ? (cpuMicros(relayChild.pid) ?? Number.NaN) : 0),
    health: () => fetch(`${url}/health`).then((r) => r.json()),
    relayOutput: () => relayOutput,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      if (relayChild) {
        const relayExited = new Promise((r) => relayChild.once("exit", r));
        relayChild.kill("SIGTERM");
        await relayExited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// The load tool: wrk (C, one thread) when it is on the PATH, else autocannon (Node). On a 2-core
// machine the tool shares the second core with the relay and the backend; wrk needs a fraction of
// autocannon's CPU for the same load, so less of the measurement is the tool's own contention.
// BENCH_TOOL=autocannon|wrk forces one.
const hasWrk = spawnSync("wrk", ["--version"]).error === undefined;
const tool = process.env.BENCH_TOOL ?? (hasWrk ? "wrk" : "autocannon");
if (tool === "wrk" && !hasWrk) throw new Error("BENCH_TOOL=wrk but wrk is not installed (Debian: apt-get install wrk)");

// Vary the customer so rows and partition keys differ, like real traffic (both tools send the same bodies).
const wrkScript = join(mkdtempSync(join(tmpdir(), "kaireon-wrk-")), "respond.lua");
writeFileSync(
  wrkScript,
  `local n = 0
request = function()
  n = n + 1
  local kind = "impression"
  if n % 3 == 0 then kind = "click" end
  local body = string.format('{"tenantId":"tenant-%d","customerId":"cust-%d","offerId":"offer-cashback-2pct","creativeId":"cr-cashback-banner","channelId":"web","interactionType":"%s","recommendationId":null}', n % 5, n % 5000, kind)
  return wrk.format("POST", "/api/v1/respond", {["content-type"] = "application/json"}, body)
end
`,
);

const toMs = (value, unit) => Number(value) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? Number.NaN);

function loadWrk(url, duration) {
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", ["-t1", `-c${connections}`, `-d${duration}s`, "--latency", "-s", wrkScript, url], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const total = /(\d+) requests in/.exec(out);
      const pct = (p) => {
        const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)\\b`).exec(out);
        return m ? toMs(m[1], m[2]) : Number.NaN;
      };
      if (code !== 0 || !rps || !total) return reject(new Error(`wrk failed (exit ${code}): ${out}`));
      const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      resolve({
        requests: { average: Number(rps[1]), total: Number(total[1]) },
        latency: { p50: pct(50), p99: pct(99) },
        non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
        errors: socketErrors ? Number(socketErrors[1]) + Number(socketErrors[2]) + Number(socketErrors[3]) : 0,
        timeouts: socketErrors ? Number(socketErrors[4]) : 0,
      });
    });
  });
}

let n = 0;
function load(url, duration) {
  if (tool === "wrk") return loadWrk(url, duration);
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/api/v1/respond`,
        method: "POST",
        connections,
        duration,
        headers: { "content-type": "application/json" },
        requests: [
          {
            setupRequest: (req) => {
              n++;
              req.body = JSON.stringify({
                tenantId: `tenant-${n % 5}`,
                customerId: `cust-${n % 5000}`,
                offerId: "offer-cashback-2pct",
                creativeId: "cr-cashback-banner",
                channelId: "web",
                interactionType: n % 3 === 0 ? "click" : "impression",
                recommendationId: null,
              });
              return req;
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

async function run(label, env) {
  const server = await startServer(env);
  const probe = env.DEMO_EVENTS === "false" ? undefined : await startProbe(server.env);
  let stopped = false;
  try {
    const warmupTotal = (await load(server.url, 3)).requests.total; // warm-up: JIT, SQLite pages, broker connection
    const cpuBefore = server.cpu();
    const from = Date.now();
    probe?.measure(from, Number.POSITIVE_INFINITY);
    const result = await load(server.url, seconds);
    probe?.measure(from, Date.now());
    const cpuPerRequest = (server.cpu() - cpuBefore) / result.requests.total;
    const non2xx = result.non2xx + result.errors + result.timeouts;
    let relayed = "n/a";
    if (env.DEMO_RELAY === "separate") {
      // Wait for the relay process to drain the outbox (sent rows stay until retention prunes them).
      await new Promise((r) => setTimeout(r, 3000));
      await server.stop();
      stopped = true;
      relayed = `requests ${result.requests.total + warmupTotal}, relay process: ${(/stopped (\{.*\})/.exec(server.relayOutput())?.[1] ?? "no report").slice(0, 200)}`;
    } else if (env.DEMO_EVENTS !== "false") {
      // Wait for the relay to drain what the run enqueued.
      for (let i = 0; i < 600; i++) {
        const h = await server.health();
        if ((h.relay?.backlog ?? 0) === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const h = await server.health();
      relayed = `relay sent ${h.relay?.sent} in ${h.relay?.batches} batches, backlog ${h.relay?.backlog}, retried ${h.relay?.retried}, dead ${h.relay?.dead}; publisher ${JSON.stringify(h.publisher)}`;
    }
    // The probe sees the last events of the window once the relay has drained them (above).
    const e2e = probe?.stats();
    return {
      label,
      rps: result.requests.average,
      p99: result.latency.p99,
      p50: result.latency.p50,
      total: result.requests.total,
      cpuPerRequest,
      non2xx,
      relayed,
      e2e,
    };
  } finally {
    await probe?.close();
    if (!stopped) await server.stop();
  }
}

const fmt = (v) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(1) : v.toFixed(0)) : "n/a");
const e2eText = (e) =>
  e ? `e2e (${e.how}) p50 ${fmt(e.p50)} ms p99 ${fmt(e.p99)} ms max ${fmt(e.max)} ms over ${e.samples} events` : "e2e n/a (in-process bus)";

console.log(
  `respond-load: ${tool}, ${seconds}s per run, ${connections} connections, backend ${backendEnv.EVENT_PUBLISHER ?? process.env.EVENT_PUBLISHER}, store ${process.env.DATABASE_URL ? "postgres" : "sqlite"}`,
);
// Rounds alternate (disabled, publishing, disabled, publishing…) so a machine whose load drifts
// during the run (other jobs) biases neither side; the ratio is of the summed requests.
const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
// BENCH_MODES picks the runs (default all): off = events disabled; thread = the default server
// (relay on a worker thread); inline = relay on the server's event loop; separate = relay process.
const allModes = [
  ["off", "events disabled", { DEMO_EVENTS: "false" }],
  ["thread", "relay thread", { DEMO_EVENTS: "true", DEMO_RELAY: "thread" }],
  ["inline", "relay inline", { DEMO_EVENTS: "true", DEMO_RELAY: "inline" }],
  ["separate", "relay process", { DEMO_EVENTS: "true", DEMO_RELAY: "separate" }],
];
const wanted = new Set((process.env.BENCH_MODES ?? "off,thread,inline,separate").split(",").map((m) => m.trim()));
wanted.add("off");
const modes = allModes.filter(([key]) => wanted.has(key));
const results = Object.fromEntries(modes.map(([key]) => [key, []]));
for (let round = 1; round <= rounds; round++) {
  for (const [key, label, env] of modes) {
    const r = await run(label, env);
    results[key].push(r);
    console.log(
      `round ${round} ${r.label.padEnd(16)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  server CPU ${fmt(r.cpuPerRequest)} µs/request  (${r.total} requests, ${r.non2xx} not 2xx)` +
        `${key === "off" ? "" : `  ${e2eText(r.e2e)}`}${r.relayed !== "n/a" ? `  after run: ${r.relayed}` : ""}`,
    );
  }
}
const sum = (list, f) => list.reduce((a, r) => a + f(r), 0);
const rps = (key) => sum(results[key], (r) => r.rps) / results[key].length;
const p99 = (key) => Math.max(...results[key].map((r) => r.p99));
for (const [key, label] of modes) {
  const cpu = sum(results[key], (r) => r.cpuPerRequest) / results[key].length;
  const e2e = results[key].map((r) => r.e2e).filter(Boolean);
  const worst = (f) => Math.max(...e2e.map(f));
  const latency =
    key === "off"
      ? ""
      : e2e.length
        ? `; e2e latency p50 ${e2e.map((e) => fmt(e.p50)).join("/")} ms, p99 ${e2e.map((e) => fmt(e.p99)).join("/")} ms (rounds), worst p99 ${fmt(worst((e) => e.p99))} ms ${worst((e) => e.p99) <= 5 ? "≤ 5 ms target met" : "> 5 ms target NOT met"}, max ${fmt(worst((e) => e.max))} ms`
        : "; e2e latency n/a (in-process bus)";
  console.log(
    `${label.padEnd(16)} ${rps(key).toFixed(0).padStart(6)} req/s (mean), p99 ${p99(key)} ms (worst round), server CPU ${fmt(cpu)} µs/request${latency}`,
  );
}
for (const [key, label] of modes.slice(1)) {
  const ratio = rps(key) / rps("off");
  // Per round too: the machine's speed drifts between runs, and these show how much.
  const perRound = results[key].map((r, i) => (r.rps / results.off[i].rps).toFixed(2)).join(", ");
  console.log(
    `ratio (${label} / events disabled): ${ratio.toFixed(3)} ${ratio >= 0.9 ? "≥ 0.9 target met" : "< 0.9 target NOT met"}  (rounds: ${perRound})`,
  );
}
