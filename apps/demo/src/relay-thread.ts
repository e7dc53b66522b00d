// The relay on a worker thread of the server (DEMO_RELAY=thread, the default for external backends).
// Node runs one JavaScript thread per event loop: a relay on the server's loop spends its CPU (reading
// rows, the backend client's protocol work, its garbage) between request handlers, and every request
// waits for it. On a worker it has its own loop, heap and core; the request path keeps only the
// INSERT of each event in the row's transaction. The worker opens its own connection (SQLite file or
// PostgreSQL pool) and its own publisher from the same environment; the server wakes it after each
// commit that enqueued something, and asks it for metrics for /health. On SQLite the thread also
// takes the WAL checkpoints (copying committed pages into the database file, with its fsync), which
// the request thread would otherwise run inside a commit every few hundred requests.
//
// This file is both sides: `RelayThread` (server) and, when loaded as a worker, the worker's loop.

import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { consoleLogger, type Env, loadPublisher } from "@kaireon/events-core";
import type { OutboxMetrics } from "@kaireon/events-outbox";
import { backendEnv, readDemoOptions } from "./config.js";
import { openStore, startCheckpoints, startRelay } from "./outbox.js";

const WAKE_EVERY_MS = 2;

type ToWorker = { type: "wake" } | { type: "metrics"; id: number } | { type: "stop" };
type FromWorker =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "metrics"; id: number; metrics: OutboxMetrics; publisher: unknown }
  | { type: "stopped"; metrics: OutboxMetrics | undefined };

export interface RelayThreadStatus {
  relay: OutboxMetrics | string;
  publisher: unknown;
}

/** The server's handle on the relay worker. */
export class RelayThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, (reply: { metrics: OutboxMetrics; publisher: unknown }) => void>();
  private nextId = 0;
  private stopped: Promise<OutboxMetrics | undefined> | undefined;
  private exited = false;
  private lastWake = Number.NEGATIVE_INFINITY;
  private wakeTimer: NodeJS.Timeout | undefined;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on("message", (m: FromWorker) => {
      if (m.type === "metrics") {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      }
    });
    worker.once("exit", () => {
      this.exited = true;
      for (const resolve of this.pending.values()) resolve({ metrics: undefined as never, publisher: "relay thread exited" });
      this.pending.clear();
    });
  }

  /** Starts the worker with `env` and resolves once its relay runs (rejects with the worker's error). */
  static async start(env: Env): Promise<RelayThread> {
    // From dist/ the worker is this very file; from src/ (tests run the TypeScript) the built copy.
    const self = new URL(import.meta.url.endsWith(".ts") ? "../dist/relay-thread.js" : import.meta.url);
    const worker = new Worker(self, { workerData: { relayThread: true }, env: { ...env } });
    const thread = new RelayThread(worker);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type === "ready") resolve();
        else if (m.type === "failed") reject(new Error(m.message));
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`[demo] relay thread exited with code ${code} before it started`)));
    });
    return thread;
  }

  /**
   * New rows are committed: claim now instead of at the next poll. At most one message per
   * WAKE_EVERY_MS (a postMessage costs the request thread a few µs, and under load the relay is
   * busy or lingering anyway); a wake-up that falls inside the window is sent at its end.
   */
  wake(): void {
    if (this.exited || this.wakeTimer) return;
    const now = performance.now();
    const wait = this.lastWake + WAKE_EVERY_MS - now;
    if (wait <= 0) {
      this.lastWake = now;
      this.worker.postMessage({ type: "wake" } satisfies ToWorker);
      return;
    }
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wake();
    }, wait);
  }

  async status(): Promise<RelayThreadStatus> {
    if (this.exited) return { relay: "relay thread stopped", publisher: undefined };
    const id = this.nextId++;
    const reply = await new Promise<{ metrics: OutboxMetrics; publisher: unknown }>((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ type: "metrics", id } satisfies ToWorker);
    });
    return { relay: reply.metrics ?? "relay thread stopped", publisher: reply.publisher };
  }

  /** Lets the relay finish its batch, closes its publisher and connection, ends the thread. */
  stop(): Promise<OutboxMetrics | undefined> {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.stopped ??= new Promise((resolve) => {
      if (this.exited) return resolve(undefined);
      let metrics: OutboxMetrics | undefined;
      this.worker.on("message", (m: FromWorker) => {
        if (m.type === "stopped") metrics = m.metrics;
      });
      this.worker.once("exit", () => resolve(metrics));
      this.worker.postMessage({ type: "stop" } satisfies ToWorker);
    });
    return this.stopped;
  }
}

async function runWorker(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const send = (m: FromWorker) => port.postMessage(m);
  try {
    const env = process.env as Env;
    const options = readDemoOptions(env);
    const publisher = await loadPublisher(backendEnv(env), { logger: consoleLogger, resolveFrom: import.meta.url });
    const { store, outbox } = await openStore(options);
    const relay = await startRelay(outbox, publisher, env, consoleLogger);
    const stopCheckpoints = startCheckpoints(outbox);
    port.on("message", async (m: ToWorker) => {
      if (m.type === "wake") relay.notify();
      else if (m.type === "metrics") {
        const [metrics, ready] = await Promise.all([
          relay.metrics().catch((error: Error) => `relay metrics failed: ${error.message}`),
          publisher.ready().catch((error: Error) => `publisher not ready: ${error.message}`),
        ]);
        send({ type: "metrics", id: m.id, metrics: metrics as OutboxMetrics, publisher: ready });
      } else if (m.type === "stop") {
        await relay.stop();
        stopCheckpoints();
        const metrics = await relay.metrics().catch(() => undefined);
        await publisher.close().catch(() => {});
        await store.close().catch(() => {});
        send({ type: "stopped", metrics });
        port.close();
      }
    });
    send({ type: "ready" });
  } catch (error) {
    send({ type: "failed", message: (error as Error).message });
    port.close();
  }
}

if (!isMainThread && (workerData as { relayThread?: boolean } | undefined)?.relayThread) await runWorker();
