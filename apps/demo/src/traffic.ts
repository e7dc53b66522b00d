#!/usr/bin/env node
// The traffic generator (`pnpm demo:traffic`): realistic journeys against a running demo —
// a customer browses (inbound behaviour events), asks for a recommendation, sees the top offer
// (impression), sometimes clicks, sometimes converts, now and then complains or unsubscribes —
// for many customers across several tenants. Bounded by a count of journeys and/or a duration.

import { parseArgs } from "node:util";

export interface TrafficOptions {
  url: string;
  /** Journeys to run (0 = until `durationMs`). */
  journeys: number;
  durationMs: number;
  tenants: number;
  customers: number;
  concurrency: number;
  /** Deterministic randomness for tests. */
  seed: number;
  /** Pause between the steps of one journey (ms), so the live view shows the funnel unfold. */
  thinkMs: number;
}

export interface TrafficReport {
  journeys: number;
  requests: number;
  byRoute: Record<string, number>;
  byStatus: Record<string, number>;
  failures: number;
  elapsedMs: number;
}

const channels = ["web", "mobile-app", "email", "call-center"];
const pages = ["page_view", "search", "add_to_cart", "product_view"];

// mulberry32: tiny, seedable, good enough for traffic shapes.
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export async function runTraffic(options: TrafficOptions, onProgress?: (report: TrafficReport) => void): Promise<TrafficReport> {
  const rnd = random(options.seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)]!;
  const report: TrafficReport = { journeys: 0, requests: 0, byRoute: {}, byStatus: {}, failures: 0, elapsedMs: 0 };
  const started = Date.now();
  const deadline = options.durationMs > 0 ? started + options.durationMs : Number.POSITIVE_INFINITY;
  let launched = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function post(path: string, body: unknown): Promise<any> {
    report.requests++;
    report.byRoute[path] = (report.byRoute[path] ?? 0) + 1;
    try {
      const res = await fetch(`${options.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      report.byStatus[res.status] = (report.byStatus[res.status] ?? 0) + 1;
      const json = await res.json().catch(() => undefined);
      if (!res.ok) {
        report.failures++;
        return undefined;
      }
      return json;
    } catch {
      report.failures++;
      report.byStatus.network = (report.byStatus.network ?? 0) + 1;
      return undefined;
    }
  }

  async function journey(): Promise<void> {
    const tenantId = `tenant-${1 + Math.floor(rnd() * options.tenants)}`;
    const customerId = `cust-${String(1 + Math.floor(rnd() * options.customers)).padStart(5, "0")}`;
    const channelId = pick(channels);
    await post("/api/v1/events", { tenantId, customerId, eventType: pick(pages), properties: { channel: channelId } });
    const rec = await post("/api/v1/recommend", { tenantId, customerId, channelId, limit: 3 });
    const decision = rec?.decision;
    const top = decision?.offers?.[0];
    if (!top) return;
    const base = {
      tenantId,
      customerId,
      offerId: top.offerId,
      creativeId: top.creativeId,
      channelId,
      campaignId: top.campaignId,
      recommendationId: decision.recommendationId,
    };
    await sleep(options.thinkMs);
    await post("/api/v1/respond", { ...base, interactionType: "impression" });
    const roll = rnd();
    if (roll < 0.03) {
      await post("/api/v1/respond", { ...base, interactionType: rnd() < 0.5 ? "complaint" : "unsubscribe" });
      return;
    }
    // Click-through rises with the toy propensity, conversions are rarer still.
    if (roll > 0.35 + (1 - top.propensity) * 0.3) return;
    await sleep(options.thinkMs);
    await post("/api/v1/respond", { ...base, interactionType: "click", outcomeTypeKey: "clicked" });
    if (rnd() > 0.35) return;
    await sleep(options.thinkMs);
    await post("/api/v1/respond", { ...base, interactionType: "conversion", outcomeTypeKey: "converted" });
  }

  const more = () => Date.now() < deadline && (options.journeys === 0 || launched < options.journeys);
  const progress = setInterval(() => onProgress?.({ ...report, elapsedMs: Date.now() - started }), 1000);
  await Promise.all(
    Array.from({ length: Math.max(1, options.concurrency) }, async () => {
      while (more()) {
        launched++;
        await journey();
        report.journeys++;
      }
    }),
  );
  clearInterval(progress);
  report.elapsedMs = Date.now() - started;
  return report;
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      journeys: { type: "string", short: "n" },
      duration: { type: "string", short: "d" },
      tenants: { type: "string" },
      customers: { type: "string" },
      concurrency: { type: "string", short: "c" },
      seed: { type: "string" },
      think: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      [
        "pnpm demo:traffic [--journeys N] [--duration SECONDS] [--tenants N] [--customers N] [--concurrency N] [--think MS] [--url URL]",
        "  journeys: recommend → impression → click → conversion sequences (default 200; 0 = until --duration)",
        "  duration: stop after this many seconds (default 60)",
        "  url: the demo (default DEMO_URL or http://127.0.0.1:$PORT, PORT default 3000)",
      ].join("\n"),
    );
    return;
  }
  const num = (value: string | undefined, fallback: number, name: string) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${value}"`);
    return n;
  };
  const options: TrafficOptions = {
    url: (values.url ?? process.env.DEMO_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`).replace(/\/$/, ""),
    journeys: num(values.journeys, 200, "journeys"),
    durationMs: num(values.duration, 60, "duration") * 1000,
    tenants: Math.max(1, num(values.tenants, 3, "tenants")),
    customers: Math.max(1, num(values.customers, 500, "customers")),
    concurrency: Math.max(1, num(values.concurrency, 8, "concurrency")),
    seed: num(values.seed, Date.now() % 1_000_000, "seed"),
    thinkMs: num(values.think, 50, "think"),
  };
  const health = await fetch(`${options.url}/health`).catch(() => undefined);
  if (!health?.ok) {
    console.error(`[traffic] no demo answers at ${options.url} — start it first: pnpm demo`);
    process.exit(1);
  }
  console.log(
    `[traffic] ${options.journeys || "unbounded"} journeys, at most ${options.durationMs / 1000}s, ${options.tenants} tenants, ${options.customers} customers → ${options.url}`,
  );
  const report = await runTraffic(options, (r) =>
    console.log(`[traffic] ${(r.elapsedMs / 1000).toFixed(0)}s: ${r.journeys} journeys, ${r.requests} requests, ${r.failures} failed`),
  );
  console.log(
    `[traffic] done: ${report.journeys} journeys, ${report.requests} requests in ${(report.elapsedMs / 1000).toFixed(1)}s ` +
      `(${Math.round((report.requests * 1000) / Math.max(1, report.elapsedMs))} req/s); by route ${JSON.stringify(report.byRoute)}; ` +
      `by status ${JSON.stringify(report.byStatus)}`,
  );
  if (report.failures > 0) process.exitCode = 1;
}

// Run only as a script, so tests can import runTraffic.
if (process.argv[1] && import.meta.url === (await import("node:url")).pathToFileURL(process.argv[1]).href) {
  main().catch((error: Error) => {
    console.error(`[traffic] ${error.message}`);
    process.exit(1);
  });
}
