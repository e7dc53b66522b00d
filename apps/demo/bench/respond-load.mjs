// Load benchmark (a script, not a test): POST /api/v1/respond on loopback with autocannon, against
// demo servers started one after the other in this same run — events disabled (rows only), and events
// enabled (row + outbox entry in one transaction) with the relay on a worker thread (the default), on
// the server's event loop, and in its own process — all draining to the backend. Prints requests/s
// and p50/p99 of each, the server's CPU per request, the ratios to the events-disabled run (overall
// and per round), checks that every event of the run was relayed, and the end-to-end latency of the
// events (event time → received) as an independent subscriber of the backend sees them: ioredis
// itself on Redis (SUBSCRIBE, or XREAD on Redis Streams), core's subscriber on any other broker. The
// in-memory backend's bus lives inside the server: no outside subscriber can see it, so n/a there.
// Each server runs two phases: saturation (throughput, the ratio, CPU per request) and then a fixed
// offered rate below saturation, paced request by request (BENCH_LATENCY_RATE req/s, default 2,000,
// for BENCH_LATENCY_SECONDS, default 8), where the end-to-end latency target is measured. The probe
// subscribes for the fixed phase only: during saturation its CPU (a JSON.parse per event, on the
// cores the server shares) would count against events-on and not against events-off.
// Every phase also shows where a latency tail comes from: the server's own stalls (event-loop delay
// and GC pauses of its request thread, from bench/stall-probe.mjs preloaded into it), the load tool's
// (its CPU per request, and how late the paced phase sent requests), and the probe's loop delay.
//
//   pnpm --filter @kaireon/demo bench                      # backend: REDIS_URL when set, else in-memory
//   BENCH_SECONDS=20 BENCH_CONNECTIONS=32 BENCH_MODES=off,thread pnpm --filter @kaireon/demo bench
//
// The servers never run at the same time (the machine may have 2 cores); rounds alternate the modes,
// in reverse order every other round (A B, B A, A B…), so a drift of the machine's speed biases none of them. BENCH_SECONDS (12), BENCH_CONNECTIONS (16),
// BENCH_ROUNDS (4), BENCH_MODES (off,thread,inline,separate), BENCH_LATENCY_RATE (2000),
// BENCH_LATENCY_SECONDS (8).

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import autocannon from "autocannon";

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
/** cutime + cstime of this process: the CPU of its children that have exited and been waited for, in µs. */
function exitedChildrenCpuMicros() {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return ((Number(fields[13]) + Number(fields[14])) * 1_000_000) / clockTicks;
  } catch {
    return undefined;
  }
}
const clockTicks = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim()) || 100;

/**
 * An independent subscriber of the backend the server publishes to (bench/e2e-probe.mjs, on a
 * worker thread so the load tool on this thread does not delay what it sees): `measure(from, to)`
 * sets the window of event times it records, `take()` returns the window's figures and starts a new
 * one. Started before the warm-up, so it is subscribed before the first event of a window.
 */
async function startProbe(env) {
  if (env.EVENT_PUBLISHER === "memory") return undefined;
  const worker = new Worker(join(here, "e2e-probe.mjs"), { workerData: { env } });
  let answer;
  worker.on("message", (m) => answer?.(m));
  const next = () =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the e2e probe did not answer within 30 s")), 30_000);
      answer = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
    });
  const errored = new Promise((_, reject) => worker.once("error", reject));
  await Promise.race([next(), errored]);
  return {
    measure(from, to) {
      worker.postMessage({ type: "measure", from, to });
    },
    async take() {
      const reply = next();
      worker.postMessage({ type: "take" });
      return (await reply).stats;
    },
    async close() {
      const exited = new Promise((r) => worker.once("exit", r));
      worker.postMessage({ type: "close" });
      await exited;
    },
  };
}

const stallProbe = pathToFileURL(join(here, "stall-probe.mjs")).href;

async function startServer(extraEnv) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "kaireon-demo-bench-"));
  const stallsFile = join(dataDir, "stalls.json");
  const env = {
    ...process.env,
    ...backendEnv,
    PORT: String(port),
    DEMO_DATA_DIR: dataDir,
    DEMO_TAIL: "false",
    DEMO_LIVE_VIEW: "false",
    ...extraEnv,
  };
  const serverEnv = {
    ...env,
    BENCH_STALLS_FILE: stallsFile,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${stallProbe}`.trim(),
  };
  const child = spawn(process.execPath, [main], { env: serverEnv, stdio: ["ignore", "pipe", "inherit"] });
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
    /** Starts a window of the server's stall figures (stall-probe.mjs). */
    stallsFrom() {
      rmSync(stallsFile, { force: true });
      child.kill("SIGUSR2");
    },
    /** The window's stall figures, and a new window; undefined if the server wrote none within 2 s. */
    async stalls() {
      rmSync(stallsFile, { force: true });
      child.kill("SIGUSR2");
      for (let i = 0; i < 40; i++) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          return JSON.parse(readFileSync(stallsFile, "utf8"));
        } catch {
          // not written yet
        }
      }
      return undefined;
    },
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

const quantile = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : Number.NaN;

let n = 0;
const respondBody = () => {
  n++;
  return JSON.stringify({
    tenantId: `tenant-${n % 5}`,
    customerId: `cust-${n % 5000}`,
    offerId: "offer-cashback-2pct",
    creativeId: "cr-cashback-banner",
    channelId: "web",
    interactionType: n % 3 === 0 ? "click" : "impression",
    recommendationId: null,
  });
};

/**
 * A fixed offered load, paced: request i is due at start + i / rate and is sent then (on one of
 * `connections` keep-alive sockets), whether or not earlier ones have been answered — an open loop,
 * its latency counted from when the request was due, so a stalled server shows as latency instead of
 * as fewer requests. Not autocannon's overallRate: that sends each connection's share of a second as
 * fast as the server answers and then pauses until the next second, so "2,000/s" is a burst at
 * saturation every second and the latency it shows is the burst's queueing.
 */
const REQUEST_TIMEOUT_MS = 30_000;
function loadPaced(url, duration, rate) {
  const { hostname, port } = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies = [];
  // How late each request was sent after it was due: the load tool's own delay (its event loop, the CPU it waits for).
  const late = [];
  let sent = 0;
  let settled = 0;
  let non2xx = 0;
  let errors = 0;
  let timeouts = 0;
  let ticking = true;
  return new Promise((resolve) => {
    const finish = () => {
      settled++;
      done();
    };
    const done = () => {
      if (ticking || settled < sent) return;
      agent.destroy();
      latencies.sort((a, b) => a - b);
      late.sort((a, b) => a - b);
      resolve({
        requests: { average: sent / duration, total: sent },
        latency: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
        late: { p99: quantile(late, 0.99), max: late.at(-1) ?? Number.NaN },
        non2xx,
        errors,
        timeouts,
      });
    };
    const start = performance.now();
    const total = Math.round(duration * rate);
    // Each request settles once, on its `close` (answered, failed or timed out); a request with no
    // answer in REQUEST_TIMEOUT_MS is destroyed and counted as a timeout, so the phase always ends.
    const fire = (due) => {
      late.push(performance.now() - due);
      const body = respondBody();
      let outcome = "error";
      const req = request(
        {
          agent,
          hostname,
          port,
          path: "/api/v1/respond",
          method: "POST",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.once("end", () => {
            outcome = "answered";
            latencies.push(performance.now() - due);
            if (res.statusCode < 200 || res.statusCode >= 300) non2xx++;
          });
        },
      );
      req.setTimeout(REQUEST_TIMEOUT_MS, () => {
        outcome = "timeout";
        req.destroy();
      });
      req.once("error", () => {});
      req.once("close", () => {
        if (outcome === "timeout") timeouts++;
        else if (outcome === "error") errors++;
        finish();
      });
      req.end(body);
    };
    const tick = setInterval(() => {
      const now = performance.now();
      const dueNow = Math.min(total, Math.floor(((now - start) * rate) / 1000));
      while (sent < dueNow) {
        const due = start + (sent * 1000) / rate;
        sent++;
        fire(due);
      }
      if (sent >= total) {
        clearInterval(tick);
        ticking = false;
        done();
      }
    }, 1);
  });
}

/** As fast as the server answers (`connections` at once); `rate`: the paced fixed load above. */
function load(url, duration, rate) {
  if (rate !== undefined) return loadPaced(url, duration, rate);
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
              req.body = respondBody();
              return req;
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

/** Waits until the server's relay has sent what was enqueued (bounded: 60 s). */
async function drained(server) {
  for (let i = 0; i < 600; i++) {
    const h = await server.health();
    if ((h.relay?.backlog ?? 0) === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * One server, two phases. Saturation: as many requests as the server answers (`connections` open
 * at once) — throughput, the ratio and CPU per request come from here; the end-to-end latency
 * measured here is mostly queueing on a saturated machine (load tool, server, broker and probe
 * share the cores), shown but not the target. Fixed rate: `latencyRate` req/s offered for
 * `latencySeconds`, below saturation — the end-to-end latency target is measured here.
 */
async function run(label, env) {
  const server = await startServer(env);
  const events = env.DEMO_EVENTS !== "false";
  let probe;
  let stopped = false;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  // The bench process, plus its children that have exited: wrk, a process of its own, is reaped as its
  // run ends (the servers, also children, only after both phases).
  const benchCpu = () => {
    const { user, system } = process.cpuUsage();
    return user + system + (exitedChildrenCpuMicros() ?? 0);
  };
  try {
    const warmupTotal = (await load(server.url, 3)).requests.total; // warm-up: JIT, SQLite pages, broker connection
    const cpuBefore = server.cpu();
    const toolCpuBefore = benchCpu();
    server.stallsFrom();
    const result = await load(server.url, seconds);
    const cpuPerRequest = (server.cpu() - cpuBefore) / result.requests.total;
    const toolCpu = (benchCpu() - toolCpuBefore) / result.requests.total;
    const stalls = await server.stalls();
    const non2xx = result.non2xx + result.errors + result.timeouts;
    if (events && env.DEMO_RELAY !== "separate") await drained(server);
    else if (events) await new Promise((r) => setTimeout(r, 3000));

    // Subscribed (and warmed by a second of paced load) before the window opens.
    probe = events ? await startProbe(server.env) : undefined;
    await load(server.url, 1, latencyRate);
    const fixedFrom = Date.now();
    probe?.measure(fixedFrom, Number.POSITIVE_INFINITY);
    const fixedCpuBefore = server.cpu();
    const fixedToolCpuBefore = benchCpu();
    server.stallsFrom();
    loopDelay.enable();
    const fixed = await load(server.url, latencySeconds, latencyRate);
    loopDelay.disable();
    probe?.measure(fixedFrom, Date.now());
    const fixedCpu = (server.cpu() - fixedCpuBefore) / fixed.requests.total;
    // The bench process: the paced load tool and (events on) the probe's thread.
    const fixedToolCpu = (benchCpu() - fixedToolCpuBefore) / fixed.requests.total;
    const fixedStalls = await server.stalls();
    const fixedNon2xx = fixed.non2xx + fixed.errors + fixed.timeouts;

    let relayed = "n/a";
    if (env.DEMO_RELAY === "separate") {
      // Wait for the relay process to drain the outbox (sent rows stay until retention prunes them).
      await new Promise((r) => setTimeout(r, 3000));
      await server.stop();
      stopped = true;
      const total = warmupTotal + result.requests.total + Math.round(latencyRate) + fixed.requests.total;
      relayed = `requests ${total}, relay process: ${(/stopped (\{.*\})/.exec(server.relayOutput())?.[1] ?? "no report").slice(0, 200)}`;
    } else if (events) {
      await drained(server);
      const h = await server.health();
      relayed = `relay sent ${h.relay?.sent} in ${h.relay?.batches} batches, backlog ${h.relay?.backlog}, retried ${h.relay?.retried}, dead ${h.relay?.dead}`;
    }
    const fixedE2e = await probe?.take();
    return {
      label,
      rps: result.requests.average,
      p99: result.latency.p99,
      p50: result.latency.p50,
      total: result.requests.total,
      cpuPerRequest,
      toolCpu,
      stalls,
      non2xx,
      relayed,
      fixed: {
        rps: fixed.requests.total / latencySeconds,
        p50: fixed.latency.p50,
        p99: fixed.latency.p99,
        total: fixed.requests.total,
        cpuPerRequest: fixedCpu,
        toolCpu: fixedToolCpu,
        late: fixed.late,
        toolDelay: { p99: Math.max(0, loopDelay.percentile(99) / 1e6 - 5), max: Math.max(0, loopDelay.max / 1e6 - 5) },
        stalls: fixedStalls,
        non2xx: fixedNon2xx,
        e2e: fixedE2e,
      },
    };
  } finally {
    await probe?.close();
    if (!stopped) await server.stop();
  }
}

const fmt = (v) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(1) : v.toFixed(0)) : "n/a");
const e2eText = (e) =>
  e
    ? `e2e (${e.how}) p50 ${fmt(e.p50)} ms p99 ${fmt(e.p99)} ms max ${fmt(e.max)} ms over ${e.samples} events (probe's loop delay p99 ${fmt(e.delayP99)} ms)`
    : "e2e n/a (in-process bus)";
/** The server's request thread over the phase (stall-probe.mjs): loop delay beyond its 5 ms sampling, busy share, GC pauses. */
const stallText = (s) =>
  s
    ? `server loop delay p99 ${fmt(s.delay.p99)} ms max ${fmt(s.delay.max)} ms, busy ${(100 * s.utilisation).toFixed(0)}%, GC ${s.gc.pauses} pauses ${s.gc.totalMs} ms (max ${fmt(s.gc.maxMs)} ms, ${s.gc.over5ms} over 5 ms)`
    : "server stalls n/a";

const latencyRate = Number(process.env.BENCH_LATENCY_RATE ?? 2000);
const latencySeconds = Number(process.env.BENCH_LATENCY_SECONDS ?? 8);
if (!Number.isFinite(latencyRate) || latencyRate < 1)
  throw new Error(`BENCH_LATENCY_RATE is ${process.env.BENCH_LATENCY_RATE} — use requests per second ≥ 1`);
const LATENCY_TARGET_MS = 5;
const RATIO_TARGET = 0.9;

console.log(
  `respond-load: ${tool}, ${connections} connections, backend ${backendEnv.EVENT_PUBLISHER ?? process.env.EVENT_PUBLISHER}, store ${process.env.DATABASE_URL ? "postgres" : "sqlite"}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}\n` +
    `  phase "saturation": ${seconds} s as fast as the server answers — throughput, ratio, CPU per request (no e2e probe: its CPU would count against events-on)\n` +
    `  phase "fixed ${latencyRate}/s": ${latencySeconds} s at ${latencyRate} req/s offered, paced (one request every ${(1000 / latencyRate).toFixed(2)} ms, open loop) — the e2e latency target (p99 ≤ ${LATENCY_TARGET_MS} ms)`,
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
  for (const [key, label, env] of round % 2 === 1 ? modes : [...modes].reverse()) {
    const r = await run(label, env);
    results[key].push(r);
    const f = r.fixed;
    const pad = `        ${"".padEnd(16)} `;
    console.log(
      `round ${round} ${r.label.padEnd(16)} saturation: ${r.rps.toFixed(0).padStart(5)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  server CPU ${fmt(r.cpuPerRequest)} µs/request  (${r.total} requests, ${r.non2xx} not 2xx), load tool ${fmt(r.toolCpu)} µs/request\n` +
        `${pad}  ${stallText(r.stalls)}\n` +
        `${pad}fixed ${latencyRate}/s: ${f.rps.toFixed(0)} req/s done  p50 ${fmt(f.p50)} ms  p99 ${fmt(f.p99)} ms  server CPU ${fmt(f.cpuPerRequest)} µs/request  (${f.total} requests, ${f.non2xx} not 2xx)` +
        `${key === "off" ? "" : `  ${e2eText(f.e2e)}`}\n` +
        `${pad}  ${stallText(f.stalls)}; load tool ${fmt(f.toolCpu)} µs/request${key === "off" ? "" : " (with the probe)"}, sent late p99 ${fmt(f.late.p99)} ms max ${fmt(f.late.max)} ms, its loop delay p99 ${fmt(f.toolDelay.p99)} ms max ${fmt(f.toolDelay.max)} ms` +
        `${r.relayed !== "n/a" ? `\n${pad}after both: ${r.relayed}` : ""}`,
    );
  }
}
const sum = (list, f) => list.reduce((a, r) => a + f(r), 0);
const rps = (key) => sum(results[key], (r) => r.rps) / results[key].length;
const p99 = (key) => Math.max(...results[key].map((r) => r.p99));
console.log(
  `summary (${rounds} rounds, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}):`,
);
for (const [key, label] of modes) {
  const cpu = sum(results[key], (r) => r.cpuPerRequest) / results[key].length;
  const fixedCpu = sum(results[key], (r) => r.fixed.cpuPerRequest) / results[key].length;
  const e2e = results[key].map((r) => r.fixed.e2e).filter(Boolean);
  const worst = (list, f) => Math.max(...list.map(f));
  const latency =
    key === "off"
      ? ""
      : e2e.length
        ? `\n  ${"".padEnd(16)} e2e latency at fixed ${latencyRate}/s: p50 ${e2e.map((e) => fmt(e.p50)).join("/")} ms, p99 ${e2e.map((e) => fmt(e.p99)).join("/")} ms (rounds), worst p99 ${fmt(worst(e2e, (e) => e.p99))} ms ${worst(e2e, (e) => e.p99) <= LATENCY_TARGET_MS ? `≤ ${LATENCY_TARGET_MS} ms target met` : `> ${LATENCY_TARGET_MS} ms target NOT met`}, max ${fmt(worst(e2e, (e) => e.max))} ms`
        : "\n  e2e latency n/a (in-process bus)";
  console.log(
    `  ${label.padEnd(16)} saturation ${rps(key).toFixed(0).padStart(6)} req/s (mean), p99 ${p99(key)} ms (worst round), server CPU ${fmt(cpu)} µs/request; at fixed ${latencyRate}/s server p99 ${results[key].map((r) => fmt(r.fixed.p99)).join("/")} ms, CPU ${fmt(fixedCpu)} µs/request${latency}`,
  );
}
for (const [key, label] of modes.slice(1)) {
  const ratio = rps(key) / rps("off");
  // Per round too: the machine's speed drifts between runs, and these show how much.
  const perRound = results[key].map((r, i) => (r.rps / results.off[i].rps).toFixed(2)).join(", ");
  const cpuRatio = sum(results[key], (r) => r.cpuPerRequest) / sum(results.off, (r) => r.cpuPerRequest);
  console.log(
    `ratio at saturation (${label} / events disabled): ${ratio.toFixed(3)} ${ratio >= RATIO_TARGET ? `≥ ${RATIO_TARGET} target met` : `< ${RATIO_TARGET} target NOT met`}  (rounds: ${perRound}); server CPU per request ×${cpuRatio.toFixed(2)}`,
  );
}
