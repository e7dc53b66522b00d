// Faults on the wire, the same scenarios for every backend: a Toxiproxy proxy sits between the real
// client and the real service, and each scenario (down, black hole, slow, reset, trickle, flap) runs
// while the publisher keeps publishing. For each one it asserts what a user relies on:
// - every publish settles (a publish still open long after the fault ended fails the test as a hang;
//   the slowest settle is printed as a figure, not asserted);
// - nothing reported `published` is missing from the service afterwards (durable backends, read back
//   straight from the service, not through the proxy);
// - what waits stays bounded (`metrics().pending` never above `pendingBound`; the heap the scenario
//   leaves behind, after a full GC, within `heapGrowthBound`);
// - once the link heals, the same publisher (and subscriber) carry on without a restart;
// - no secret appears in any log line or error on the way.

import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Logger, Publisher, PublishResult, Subscriber } from "@kaireon/events-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleDecision, uniqueTenant } from "./fixtures.js";
import { createEventSpy } from "./spy.js";
import { Toxiproxy, type ToxiproxyProxy, type WireFaultName, wireFaults } from "./toxiproxy.js";

export interface WireFaultContext {
  /** host:port of the proxy: where the client under test must connect. */
  address: string;
  /** Collects every log line the backend writes (checked for secrets). */
  logger: Logger;
}

export interface WireFaultOptions {
  /** Shown in the describe() title. */
  name: string;
  /** host:port of the real service the proxy forwards to. */
  upstream: string;
  /** A publisher of the backend under test connected through `address`. */
  createPublisher: (context: WireFaultContext) => Publisher | Promise<Publisher>;
  /** A subscriber connected through `address`; it must receive an event published after the heal. */
  createSubscriber?: (context: WireFaultContext) => Subscriber | Promise<Subscriber>;
  /** Ids stored for `tenantId`, read from the service directly. Durable backends only. */
  readBack?: (tenantId: string) => Promise<string[]>;
  /** `metrics().pending` never exceeds this (the backend's queue bound plus what is in flight). */
  pendingBound: number;
  /** Strings that must never appear in a log line or an error (passwords, tokens). */
  secrets?: string[];
  /** The backend's own bound for one publish; a publish open longer than this + `hangMarginMs` after the heal is a hang. */
  publishTimeoutMs: number;
  /** Default 30 s. */
  hangMarginMs?: number;
  /** How long each fault lasts. Default 3 s. */
  faultMs?: number;
  scenarios?: WireFaultName[];
  /** A proxy made by the service scripts (Kafka's); otherwise each scenario gets a fresh one. */
  proxy?: () => Promise<ToxiproxyProxy>;
  /**
   * How long after the heal the subscriber may take to receive again. Default 60 s. A Kafka consumer
   * that rejoins its group as a new member waits for the old one's session (30 s) and, when a
   * rebalance is under way, up to its rebalance timeout (60 s).
   */
  recoveryMs?: number;
  /** Heap still used after the scenario (full GC, before close) minus before it, at most. Default 64 MiB. */
  heapGrowthBound?: number;
}

/**
 * A full GC without --expose-gc on the command line: the flag set at run time makes a fresh context's
 * global `gc` available. Heap figures taken after it are what is retained, not garbage.
 */
function collectGarbage(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

function retainedHeap(gc: () => void): number {
  gc();
  gc();
  return getHeapStatistics().used_heap_size;
}

interface Outcome {
  settledAfterMs: number;
  result?: PublishResult;
  error?: unknown;
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

export function describeWireFaults(options: WireFaultOptions): void {
  const scenarios = options.scenarios ?? (Object.keys(wireFaults) as WireFaultName[]);
  const faultMs = options.faultMs ?? 3_000;
  const figures: string[] = [];
  const heapGrowthBound = options.heapGrowthBound ?? 64 * 1024 * 1024;
  let toxiproxy: Toxiproxy;
  let gc: () => void;

  describe(`wire faults: ${options.name}`, () => {
    beforeAll(async () => {
      toxiproxy = await Toxiproxy.fromEnv();
      gc = collectGarbage();
    });
    afterAll(() => {
      if (figures.length > 0) console.log(`[wire faults] ${options.name}\n  ${figures.join("\n  ")}`);
    });

    for (const scenario of scenarios) {
      it(
        `${scenario}: every publish settles, nothing published is lost, pending stays bounded, and it recovers`,
        async () => {
          const proxy = options.proxy
            ? await options.proxy()
            : await toxiproxy.createProxy(`${options.name.replace(/\W+/g, "-")}-${scenario}-${Date.now()}`, options.upstream);
          const lines: string[] = [];
          const record = (level: string) => (message: string, fields?: Record<string, unknown>) =>
            lines.push(`${new Date().toISOString().slice(11, 23)} ${level} ${message} ${fields ? JSON.stringify(fields) : ""}`);
          const logger: Logger = { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") };
          const context: WireFaultContext = { address: proxy.listen, logger };
          const tenantId = uniqueTenant(`wire-${scenario}`);
          const publisher = await options.createPublisher(context);
          const subscriber = options.createSubscriber ? await options.createSubscriber(context) : undefined;
          const spy = createEventSpy();
          const outcomes: Outcome[] = [];
          const inFlight: Promise<void>[] = [];
          let maxPending = 0;
          const started = Date.now();
          const publishOne = (i: number, phase: string) => {
            const at = Date.now();
            const p = publisher
              .publish("decision.made.v1", sampleDecision({ tenantId, customerId: `c-${i % 16}`, recommendationId: `${phase}-${i}` }))
              .then(
                (result) => void outcomes.push({ settledAfterMs: Date.now() - at, result }),
                (error: unknown) => void outcomes.push({ settledAfterMs: Date.now() - at, error }),
              );
            inFlight.push(p);
            maxPending = Math.max(maxPending, publisher.metrics().pending);
          };
          try {
            const subscription = subscriber
              ? await subscriber.subscribe(["decision.made.v1"], spy.handler, { onError: spy.onError, group: uniqueTenant("wire") })
              : undefined;
            // A healthy start: the link works before the fault.
            await publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "before" }));
            const heapBefore = retainedHeap(gc);
            let heapPeak = getHeapStatistics().used_heap_size;

            const heal = await proxy.apply(wireFaults[scenario]);
            let i = 0;
            const faultEnds = Date.now() + faultMs;
            try {
              while (Date.now() < faultEnds) {
                for (let k = 0; k < 20; k++) publishOne(i++, "during");
                await new Promise((r) => setTimeout(r, 100));
                maxPending = Math.max(maxPending, publisher.metrics().pending);
                heapPeak = Math.max(heapPeak, getHeapStatistics().used_heap_size);
              }
            } finally {
              await heal();
            }
            const healedAt = Date.now();
            // Everything settles: a hang fails here, after the backend's own bound and a margin.
            const hangAfter = options.publishTimeoutMs + (options.hangMarginMs ?? 30_000);
            let watchdog: NodeJS.Timeout | undefined;
            const hung = new Promise<never>((_, reject) => {
              watchdog = setTimeout(
                () =>
                  reject(
                    new Error(`${inFlight.length - outcomes.length} publish(es) still unsettled ${hangAfter} ms after the link healed`),
                  ),
                hangAfter,
              );
            });
            const sampler = setInterval(() => {
              maxPending = Math.max(maxPending, publisher.metrics().pending);
              heapPeak = Math.max(heapPeak, getHeapStatistics().used_heap_size);
            }, 20);
            try {
              await Promise.race([Promise.all(inFlight), hung]);
            } finally {
              clearTimeout(watchdog);
              clearInterval(sampler);
            }

            // The same publisher and subscriber carry on. The first publishes after a heal may still meet
            // a connection the fault broke, and a subscriber reconnects on its own backoff (on pub/sub an
            // event published before it is back is gone, by design): publish a marker every 500 ms until
            // one is received, within `recoveryMs`.
            const markers = new Set<string>();
            let received = false;
            const recoveryEnds = Date.now() + (options.recoveryMs ?? 60_000);
            while (!received && Date.now() < recoveryEnds) {
              const marker = await publisher
                .publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "after" }))
                .catch(() => undefined);
              if (marker) markers.add(marker.id);
              received = subscription ? spy.events.some((e) => markers.has(e.id)) : markers.size > 0;
              if (!received) await new Promise((r) => setTimeout(r, 500));
              received ||= subscription ? spy.events.some((e) => markers.has(e.id)) : markers.size > 0;
            }
            // What the scenario saw: printed with WIRE_FAULTS_VERBOSE=1, and whenever a check fails (CI).
            const dump = () => {
              const firstOf = new Map<string, string>();
              for (const o of outcomes.filter((x) => x.error)) {
                const e = o.error as { code?: string; message?: string };
                if (!firstOf.has(e.code ?? "")) firstOf.set(e.code ?? "", String(e.message));
              }
              console.log(
                `[wire faults] ${options.name} ${scenario} errors:\n  ${[...firstOf].map(([c, m]) => `${c}: ${m}`).join("\n  ")}\n` +
                  `healed at ${new Date(healedAt).toISOString().slice(11, 23)}, subscriber errors (${spy.errors.length}):\n  ` +
                  `${spy.errors
                    .slice(0, 10)
                    .map((f) => `${f.error.code}: ${f.error.message}`)
                    .join("\n  ")}\n` +
                  `log lines (${lines.length}, the first and last 20):\n  ${[...lines.slice(0, 20), "…", ...lines.slice(-20)].join("\n  ")}`,
              );
            };
            if (markers.size === 0 || !received) dump();
            expect(markers.size, "a publish after the link healed succeeds").toBeGreaterThan(0);
            expect(received, "the subscriber receives events again after the link healed").toBe(true);
            const recoveredAfterMs = Date.now() - healedAt;

            const published = outcomes.filter((o) => o.result?.status === "published").map((o) => o.result?.id as string);
            const failed = outcomes.filter((o) => o.error);
            if (options.readBack) {
              const stored = new Set(await options.readBack(tenantId));
              const missing = published.filter((id) => !stored.has(id));
              expect(missing, "events reported published but not stored").toEqual([]);
            }
            expect(maxPending, "metrics().pending stays within its bound").toBeLessThanOrEqual(options.pendingBound);
            // What the fault left behind once everything settled: a queue, a timer or a socket per
            // failed publish that is never released shows here (outcomes and spy hold a few KB).
            const heapGrowth = retainedHeap(gc) - heapBefore;
            expect(heapGrowth, "heap retained after the fault (bytes)").toBeLessThanOrEqual(heapGrowthBound);
            const codes = new Map<string, number>();
            for (const o of failed) {
              const code = (o.error as { code?: string }).code ?? "(no code)";
              codes.set(code, (codes.get(code) ?? 0) + 1);
            }
            expect([...codes.keys()], "every failure carries a code").not.toContain("(no code)");
            const texts = [
              ...lines,
              ...failed.map((o) => `${String(o.error)} ${JSON.stringify(o.error)} ${String((o.error as Error).cause)}`),
              // What the subscriber reported to onError on the way.
              ...spy.errors.map((f) => `${String(f.error)} ${JSON.stringify(f.error)} ${String((f.error as Error).cause)}`),
            ];
            for (const secret of options.secrets ?? []) {
              // An unset secret would match nothing (or, as "undefined", everything): it is a setup error.
              expect(typeof secret === "string" && secret.length >= 4, "each secret is a real string").toBe(true);
              expect(
                texts.filter((t) => t.includes(secret)),
                "no secret in logs or errors",
              ).toEqual([]);
            }
            const slowest = Math.max(0, ...outcomes.map((o) => o.settledAfterMs));
            figures.push(
              `${scenario}: ${outcomes.length} publishes during ${faultMs} ms, ${published.length} published, ${failed.length} failed ` +
                `(${[...codes].map(([c, n]) => `${c} ${n}`).join(", ") || "none"}), slowest settle ${slowest} ms, ` +
                `max pending ${maxPending}, recovered ${recoveredAfterMs} ms after the heal, ` +
                `heap +${mib(heapGrowth)} MiB retained (peak +${mib(heapPeak - heapBefore)} MiB), run ${Date.now() - started} ms`,
            );
            if (process.env.WIRE_FAULTS_VERBOSE) dump();
            await subscription?.close();
          } finally {
            await publisher.close().catch(() => {});
            await subscriber?.close().catch(() => {});
            if (!options.proxy) await proxy.delete();
            else await proxy.heal().catch(() => {});
          }
        },
        faultMs + options.publishTimeoutMs + (options.hangMarginMs ?? 30_000) + (options.recoveryMs ?? 60_000) + 90_000,
      );
    }
  });
}
