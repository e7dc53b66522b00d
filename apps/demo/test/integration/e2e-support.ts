// End-to-end harness: runs the built demo (dist/main.js) as its own process with a given backend
// environment, posts to it, reads the stored row back from its database, and collects the events a
// subscriber of that backend receives — the demo's own live stream (SSE) and, for a real broker, an
// independent subscriber in this process.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DomainEvent, loadSubscriber, type Subscription, silentLogger, topicNames } from "@kaireon/events-core";
import { messagingSystem } from "@kaireon/events-core/backend";
import Database from "better-sqlite3";
import { expect } from "vitest";
import type { InteractionRow } from "../../src/store.js";
import { interactionFromRow } from "../../src/store-rows.js";
import { expectJourney, startOtlpReceiver } from "./e2e-telemetry.js";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist");

export interface RunningDemo {
  url: string;
  dataDir: string;
  output: () => string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts dist/main.js (or `script`, e.g. relay-main.js, which is ready when it prints `ready`). */
export async function spawnDemo(
  env: Record<string, string>,
  {
    script = "main.js",
    dataDir = mkdtempSync(join(tmpdir(), "kaireon-demo-e2e-")),
    ready = /listening on (http:\/\/\S+)/,
    /** Leave dataDir in place at stop(), for a later run on the same store. */
    keepData = false,
  } = {},
): Promise<RunningDemo> {
  const child: ChildProcess = spawn(process.execPath, [join(dist, script)], {
    // DATABASE_URL blank: the SQLite file under dataDir, even when the services exported a PostgreSQL.
    env: { ...process.env, PORT: "0", DEMO_DATA_DIR: dataDir, DEMO_TAIL: "true", DATABASE_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let url: string | undefined;
  for (let i = 0; i < 300 && url === undefined; i++) {
    const match = ready.exec(output);
    url = match ? (match[1] ?? "") : undefined;
    if (url === undefined) {
      if (child.exitCode !== null) throw new Error(`the demo exited with ${child.exitCode}:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (url === undefined) {
    child.kill("SIGKILL");
    throw new Error(`the demo did not start within 30 s:\n${output}`);
  }
  return {
    url,
    dataDir,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const code = await exited;
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Follows /live/stream and collects every event it carries, and the totals it last reported. */
export function followLiveStream(url: string) {
  const events: DomainEvent[] = [];
  const totals: { counts: Record<string, number>; origin?: { mode: string; since?: string } } = { counts: {} };
  const controller = new AbortController();
  const ready = (async () => {
    const res = await fetch(`${url}/live/stream`, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let snapshot: () => void = () => {};
    const gotSnapshot = new Promise<void>((r) => {
      snapshot = r;
    });
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const type = /^event: (.*)$/m.exec(block)?.[1];
            const data = block
              .split("\n")
              .filter((l) => l.startsWith("data:"))
              .map((l) => l.slice(5).trimStart())
              .join("\n");
            if (type === "snapshot") {
              const s = JSON.parse(data);
              totals.counts = s.counts;
              totals.origin = s.origin;
              snapshot();
            }
            if (type === "event") {
              const message = JSON.parse(data);
              totals.counts = message.counts;
              const e = message.event;
              events.push({ id: e.id, type: e.type, time: e.time, data: e.data } as DomainEvent);
            }
          }
        }
      } catch {
        // aborted
      }
    })();
    await gotSnapshot;
  })();
  return { events, totals, ready, close: () => controller.abort() };
}

/** An independent subscriber of the configured backend (what an analytics worker would run). */
export async function subscribeBackend(env: Record<string, string>) {
  const events: DomainEvent[] = [];
  const subscriber = await loadSubscriber({ ...process.env, ...env }, { logger: silentLogger });
  const subscription: Subscription = await subscriber.subscribe(topicNames, (event) => {
    events.push(event);
  });
  return {
    events,
    async close() {
      await subscription.close();
      await subscriber.close();
    },
  };
}

export function readInteraction(dataDir: string, interactionId: string): InteractionRow | undefined {
  const db = new Database(join(dataDir, "demo.sqlite"), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT * FROM interaction_history WHERE interaction_id = ?").get(interactionId) as
      | Record<string, unknown>
      | undefined;
    return row ? interactionFromRow(row) : undefined;
  } finally {
    db.close();
  }
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** The payload a row must produce: the row without its own ids. */
export function payloadOf(row: InteractionRow) {
  const { interactionId: _i, eventId: _e, ...payload } = row;
  return payload;
}

/**
 * The end-to-end scenario every backend runs: the demo process on that backend, an independent
 * subscriber of that backend, POST /api/v1/respond → the subscriber receives the event, equal to the
 * row stored in the database; the demo's own live stream (the same subscriber API) shows it too;
 * then a burst of requests all arrive; SIGTERM exits cleanly.
 */
export async function runBackendScenario(
  env: Record<string, string>,
  expectedBackend: string,
  /** Variables that differ for the test's own consumer (e.g. its own EventBridge → SQS queue). */
  consumerEnv: Record<string, string> = {},
): Promise<void> {
  const consumer = await subscribeBackend({ ...env, ...consumerEnv });
  // OpenTelemetry on (OTLP to a receiver in this process): the journey of the first request is
  // asserted on the spans the demo's SDK exported.
  const otlp = await startOtlpReceiver();
  const demo = await spawnDemo({ ...env, ...otlp.env });
  try {
    const health = (await (await fetch(`${demo.url}/health`)).json()) as { backend: string };
    expect(health.backend).toBe(expectedBackend);
    const stream = followLiveStream(demo.url);
    await stream.ready;

    const res = await postJson(`${demo.url}/api/v1/respond`, {
      tenantId: "acme",
      customerId: `c-${Date.now()}`,
      offerId: "offer-savings-4pct",
      creativeId: null,
      channelId: "email",
      interactionType: "conversion",
      outcomeTypeKey: "converted",
      campaignId: "cmp-savings",
      recommendationId: "rec-1",
    });
    expect(res.status).toBe(201);
    const { interaction } = res.json;
    await expect.poll(() => consumer.events.map((e) => e.id), { timeout: 30_000, interval: 100 }).toContain(interaction.eventId);
    const received = consumer.events.find((e) => e.id === interaction.eventId)!;
    const stored = readInteraction(demo.dataDir, interaction.interactionId)!;
    expect(received.type).toBe("interaction.recorded.v1");
    expect(received.data).toEqual(payloadOf(stored));
    await expect.poll(() => stream.events.map((e) => e.id), { timeout: 30_000, interval: 100 }).toContain(interaction.eventId);
    await expectJourney(otlp, interaction.eventId, messagingSystem(expectedBackend));

    // A burst: every event of every request arrives (counted by id).
    const ids = new Set<string>();
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        postJson(`${demo.url}/api/v1/respond`, {
          tenantId: `t${i % 3}`,
          customerId: `burst-${i}`,
          offerId: "o1",
          channelId: "web",
          interactionType: "impression",
        }),
      ),
    );
    for (const r of responses) {
      expect(r.status).toBe(201);
      ids.add(r.json.interaction.eventId);
    }
    await expect.poll(() => consumer.events.filter((e) => ids.has(e.id)).length, { timeout: 30_000, interval: 200 }).toBe(50);
    // The relay that sent them ran on the server's worker thread, which reports to /health.
    const after = (await (await fetch(`${demo.url}/health`)).json()) as { relayMode: string; relay: { sent: number; backlog: number } };
    expect(after.relayMode).toBe("thread");
    expect(after.relay.sent).toBeGreaterThanOrEqual(51);
    stream.close();
    expect(await demo.stop()).toBe(0);
  } finally {
    await demo.stop();
    await consumer.close();
    await otlp.close();
  }
}
