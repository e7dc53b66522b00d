// Faults on the wire between the relay and PostgreSQL. The relay's pool connects through a proxy in
// front of the real server (DATABASE_URL); the app's writes and the checks use a direct pool. Each
// scenario hits one step of a batch: `claim` (the fault is on before the relay wakes for new rows:
// BEGIN, the scan, the advisory locks) or `complete` (the fault goes on while the batch is being
// published: the UPDATEs and the COMMIT). Afterwards every row must be `sent` and every event
// delivered at least once — the relay must not crash, lose a row or park one as dead; a duplicate is
// allowed only where at-least-once says (a batch whose COMMIT did not come back), so duplicates are
// counted and must come with a failed tick. The relay polls only every minute: picking up rows after
// the heal and the final row proves the LISTEN connection came back (or the relay woke itself).
//
// Toxiproxy closes the connections its timeout toxic held when the toxic is removed, so a black hole
// there ends at the heal. A real half-open socket stays silent for good: the last test puts the
// relay's connections behind events-testkit's switchableProxy, which never answers what it swallowed.
import { type DomainEvent, type Logger, MemoryBus, MemoryPublisher, type Publisher, type PublishResult } from "@kaireon/events-core";
import { requireService, switchableProxy, Toxiproxy, type ToxiproxyProxy, type WireFaultName, wireFaults } from "@kaireon/events-testkit";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutboxRelay, createPostgresOutbox, type OutboxRelay, type PostgresOutbox } from "../../src/index.js";
import { makeEvent, recordBus, until } from "../support/outbox-suite.js";

/** The relay's bound on one database call (PostgresOutboxOptions.queryTimeoutMs). */
const QUERY_TIMEOUT_MS = 2_000;
const FAULT_MS = 3_000;
/** Longer than the relay's backoff (≤ 5 × poll, capped at 30 s) never comes into play: see the file comment. */
const POLL_MS = 60_000;

let url: URL;
let toxiproxy: Toxiproxy;
const pools: pg.Pool[] = [];
let tableNo = 0;
const figures: string[] = [];

function pool(connection: string, max = 5): pg.Pool {
  // What an app would configure: a bound on connecting. No query_timeout: the relay must not need one.
  const p = new pg.Pool({ connectionString: connection, max, connectionTimeoutMillis: 3_000 });
  p.on("error", () => {});
  pools.push(p);
  return p;
}

function through(address: string): string {
  const u = new URL(url.href);
  u.host = address;
  return u.href;
}

beforeAll(async () => {
  url = new URL(await requireService({ variable: "DATABASE_URL", name: "PostgreSQL server" }));
  toxiproxy = await Toxiproxy.fromEnv();
});
afterAll(async () => {
  if (figures.length > 0) console.log(`[wire faults] outbox (PostgreSQL)\n  ${figures.join("\n  ")}`);
  await Promise.all(pools.splice(0).map((p) => p.end().catch(() => {})));
});

/** Calls `onBatch` inside publishBatch, after the claim and before the complete. */
function hookedPublisher(inner: Publisher, hook: { onBatch?: () => Promise<void> }): Publisher {
  return new Proxy(inner, {
    get: (target, prop, receiver) => {
      if (prop !== "publishBatch") return Reflect.get(target, prop, receiver);
      return async (events: readonly DomainEvent[]): Promise<PromiseSettledResult<PublishResult>[]> => {
        const results = await target.publishBatch(events);
        const onBatch = hook.onBatch;
        hook.onBatch = undefined;
        await onBatch?.();
        return results;
      };
    },
  });
}

interface Rig {
  t: string;
  direct: pg.Pool;
  relay: OutboxRelay;
  /** A second store on the direct pool: its enqueue wakes the relay only through NOTIFY/LISTEN. */
  app: PostgresOutbox;
  delivered: DomainEvent[];
  hook: { onBatch?: () => Promise<void> };
  lines: string[];
  enqueued: string[];
}

async function rig(relayUrl: string): Promise<Rig> {
  const t = `outbox_wire${process.pid}_${Date.now().toString(36)}_${tableNo++}`;
  const direct = pool(url.href);
  const bus = new MemoryBus(0);
  const delivered = recordBus(bus);
  const hook: Rig["hook"] = {};
  const lines: string[] = [];
  const record = (level: string) => (message: string) => void lines.push(`${new Date().toISOString().slice(11, 23)} ${level} ${message}`);
  const logger: Logger = { debug: () => {}, info: record("info"), warn: record("warn"), error: record("error") };
  const store = createPostgresOutbox({
    pool: pool(relayUrl),
    table: t,
    queryTimeoutMs: QUERY_TIMEOUT_MS,
    listenRetry: { baseMs: 200, maxMs: 2_000 },
  });
  const app = createPostgresOutbox({ pool: direct, table: t });
  await app.migrate();
  const relay = createOutboxRelay({
    store,
    publisher: hookedPublisher(new MemoryPublisher({ bus }), hook),
    batchSize: 50,
    pollIntervalMs: POLL_MS,
    backoff: { baseMs: 100, maxMs: 1_000 },
    retention: false,
    migrate: false,
    logger,
  });
  await relay.start();
  return { t, direct, relay, app, delivered, hook, lines, enqueued: [] };
}

async function enqueue(r: Rig, n: number, key = (i: number) => `cust-${i % 8}`): Promise<void> {
  const events = Array.from({ length: n }, (_, i) => makeEvent(key(i), "tenant-wire"));
  const client = await r.direct.connect();
  try {
    await client.query("BEGIN");
    await r.app.enqueue(client, events);
    await client.query("COMMIT");
    r.enqueued.push(...events.map((e) => e.id));
  } finally {
    client.release();
  }
}

async function statusCounts(r: Rig): Promise<Record<string, number>> {
  const { rows } = await r.direct.query(`SELECT status, count(*)::int AS n FROM ${r.t} GROUP BY status`);
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

async function allSent(r: Rig): Promise<boolean> {
  const counts = await statusCounts(r);
  return (counts.sent ?? 0) === r.enqueued.length && Object.keys(counts).length === 1;
}

/** The checks every scenario ends with; returns the figures. */
async function settleAndCheck(r: Rig, healedAt: number): Promise<string> {
  await until("every row sent after the heal", () => allSent(r), 90_000).catch(async (error) => {
    throw new Error(`${(error as Error).message}: ${JSON.stringify(await statusCounts(r))}; relay log:\n${r.lines.slice(-15).join("\n")}`);
  });
  const recoveredMs = Date.now() - healedAt;
  // The LISTEN connection is back: a row from another process's store reaches the relay well
  // before its poll interval would.
  const before = r.enqueued.length;
  await enqueue(r, 1);
  await until("a row enqueued after recovery is sent (NOTIFY → LISTEN)", () => allSent(r), 30_000);
  expect(r.enqueued.length).toBe(before + 1);

  const counts = new Map<string, number>();
  for (const e of r.delivered) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
  const missing = r.enqueued.filter((id) => !counts.has(id));
  const strangers = [...counts.keys()].filter((id) => !r.enqueued.includes(id));
  const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
  const metrics = await r.relay.metrics();
  expect(missing, "rows sent but never delivered").toEqual([]);
  expect(strangers).toEqual([]);
  expect(metrics).toMatchObject({ running: true, dead: 0, deadRows: 0, backlog: 0 });
  // At-least-once: a duplicate only comes from a batch whose outcome did not reach the database.
  if (duplicates > 0) expect(metrics.storeErrors, "duplicates without a failed tick").toBeGreaterThan(0);
  return `${r.enqueued.length} rows, ${r.delivered.length} deliveries (${duplicates} duplicates), ${metrics.storeErrors} failed ticks, recovered ${recoveredMs} ms after the heal`;
}

const scenarios: WireFaultName[] = ["down", "blackHole", "lostAnswers", "slow", "reset"];

describe("outbox relay on PostgreSQL through a faulty wire", () => {
  for (const scenario of scenarios)
    for (const step of ["claim", "complete"] as const) {
      it(`${scenario} during ${step}: no crash, no row lost or parked, duplicates only at-least-once, recovers, LISTEN comes back`, async () => {
        const proxy: ToxiproxyProxy = await toxiproxy.createProxy(`outbox-${scenario}-${step}-${Date.now()}`, url.host);
        const r = await rig(through(proxy.listen));
        try {
          await enqueue(r, 100);
          await until("the healthy start", () => allSent(r), 30_000);
          const started = Date.now();
          let heal: (() => Promise<void>) | undefined;
          if (step === "claim") {
            heal = await proxy.apply(wireFaults[scenario]);
            await enqueue(r, 100);
            r.relay.notify();
          } else {
            const applied = new Promise<void>((resolve) => {
              r.hook.onBatch = async () => {
                heal = await proxy.apply(wireFaults[scenario]);
                resolve();
              };
            });
            await enqueue(r, 100);
            r.relay.notify();
            await applied;
          }
          // Rows keep arriving while the fault lasts.
          while (Date.now() - started < FAULT_MS) {
            await enqueue(r, 20);
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
          await heal?.();
          const healedAt = Date.now();
          figures.push(`${scenario} during ${step}: ${await settleAndCheck(r, healedAt)}`);
        } finally {
          await r.relay.stop();
          await proxy.delete();
          await r.direct.query(`DROP TABLE IF EXISTS ${r.t}, ${r.t}_schema`).catch(() => {});
        }
      }, 180_000);
    }

  it("a half-open connection during complete (never answered, never closed): the batch fails within the bound, the relay recovers on its own", async () => {
    const hole = await switchableProxy(`tcp://${url.host}`);
    const r = await rig(through(new URL(hole.url).host));
    try {
      await enqueue(r, 100);
      await until("the healthy start", () => allSent(r), 30_000);
      const applied = new Promise<void>((resolve) => {
        r.hook.onBatch = async () => {
          hole.blackHole();
          resolve();
        };
      });
      await enqueue(r, 100);
      r.relay.notify();
      await applied;
      // The complete's UPDATE went into the hole (bytes swallowed), then the link is fine again for
      // new connections; the one that swallowed them never answers.
      await until("the complete's statements are swallowed", () => hole.swallowed > 0, 10_000);
      hole.forward();
      const healedAt = Date.now();
      figures.push(`half-open during complete: ${await settleAndCheck(r, healedAt)}, ${hole.swallowed} bytes swallowed`);
      expect(r.lines.join("\n"), "the tick failed on the bound, coded and named").toContain("queryTimeoutMs");
      // stop() must not wait on the lost session either.
      await r.relay.stop();
    } finally {
      await r.relay.stop();
      await hole.close();
      await r.direct.query(`DROP TABLE IF EXISTS ${r.t}, ${r.t}_schema`).catch(() => {});
    }
  }, 180_000);
});
