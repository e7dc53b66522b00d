// The relay on a worker thread of the server (DEMO_RELAY=thread, the default for external backends).
// Node runs one JavaScript thread per event loop: a relay on the server's loop spends its CPU (reading
// rows, the backend client's protocol work, its garbage) between request handlers, and every request
// waits for it. On a worker it has its own loop, heap and core; the request path keeps only the
// INSERT of each event in the row's transaction. The worker gets what the server already parsed (a
// RelaySetup: the database location, the backend's options, the tuning), opens its own connection
// and publisher, and neither reads the environment nor migrates anything. Each enqueue on the
// server's outbox wakes it (RelayThread.wake); the server asks it for metrics for /health. On SQLite
// the thread also takes the WAL checkpoints (copying committed pages into the database file, with
// its fsync), which the request thread would otherwise run inside a commit every few hundred requests,
// and the server commits the relay's cursor for it (RelayThreadOptions.cursor): SQLite has one writer,
// and when the relay's connection and the server's both write, whichever finds the lock taken sleeps
// in SQLite's busy handler (1, 2, 5, 10 … ms) — the server's requests, or the events behind the batch.
//
// This file is both sides: `RelayThread` (server) and, when loaded as a worker, the worker's loop.

import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { consoleLogger, type Env, type Logger, type PublisherMetrics } from "@kaireon/events-core";
import type { OutboxMetrics, OutboxStore } from "@kaireon/events-outbox";
import { HEALTH_TIMEOUT_MS, within } from "./health.js";
import { isPublisherDisabled, type RelayHooks, runRelay } from "./relay.js";
import type { RelaySetup } from "./relay-setup.js";
import { redactDeep, redactText } from "./secrets.js";
import { startTelemetry } from "./telemetry.js";

/**
 * At most one wake-up message per this many ms. A wake-up inside the window waits for its end
 * (a timer: 1 ms or more), which an idle relay adds to the event's latency: 1 ms keeps that
 * under the relay's own linger, for at most 1,000 messages a second (a few µs each).
 */
const WAKE_EVERY_MS = 1;
/** The worker's own bound on relay.metrics() and publisher.ready(), under the server's, so its reply arrives in time. */
const WORKER_HEALTH_TIMEOUT_MS = 1500;
/** Indexes of RelayThread.wakeState. */
const WAKE_PENDING = 0;
const WAKE_IDLE = 1;
const WAKE_COMMITS = 2;
/** How long the relay waits for the server to commit its cursor; then the batch's rows stay pending (sent again). */
const CURSOR_TIMEOUT_MS = 10_000;
/** A relay cursor no group commit took within this long (no request came) is sent to the server to commit. */
const CURSOR_NUDGE_MS = 20;

type ToWorker =
  | { type: "wake" }
  | { type: "metrics"; id: number }
  | { type: "stop" }
  | { type: "cursor-done"; id: number; error?: string | undefined };
type FromWorker =
  | { type: "ready" }
  | { type: "cursor"; id: number; seq: number }
  | { type: "failed"; message: string }
  | { type: "disabled"; message: string }
  | { type: "metrics"; id: number; metrics: OutboxMetrics | string; publisher: unknown; publisherMetrics?: PublisherMetrics }
  | { type: "stopped"; metrics: OutboxMetrics | undefined };

export interface RelayThreadOptions {
  /** The server's outbox: each enqueue on it wakes the worker. */
  outbox?: Pick<OutboxStore, "onEnqueue"> | undefined;
  /**
   * The worker's process environment (default: the server's). Only client libraries read it for
   * themselves (the AWS SDK's credential chain); the demo's code in the worker reads none of it.
   */
  env?: Env;
  /** The worker's module (default: this file). Tests pass a stand-in worker that never answers. */
  script?: URL;
  /** How long status() waits for the worker's reply (default HEALTH_TIMEOUT_MS). */
  statusTimeoutMs?: number;
  /**
   * Commits the relay's cursor on the server's writer (SQLite: the store's advanceOutboxCursor, in
   * its group commit); the worker's relay then writes nothing for a batch whose rows were all sent.
   * Asked only when no group commit took the cursor from `relayCursor` meanwhile (the store's
   * followRelayCursor). Unset: the relay writes its cursor on its own connection.
   */
  cursor?: ((seq: number) => Promise<void>) | undefined;
  /**
   * How long the worker waits for the server to commit a cursor (default CURSOR_TIMEOUT_MS) before
   * it goes back to the stored cursor and sends those rows again.
   */
  cursorTimeoutMs?: number;
}

export interface RelayThreadStatus {
  /** The relay's metrics, or why there are none. */
  relay: OutboxMetrics | string;
  publisher: unknown;
  /** The worker's publisher's counters (pending, failures by code); absent when it did not answer. */
  publisherMetrics?: PublisherMetrics | undefined;
}

type ThreadReply = { metrics: OutboxMetrics | string; publisher: unknown; publisherMetrics?: PublisherMetrics | undefined };

/** The server's handle on the relay worker; restarts it (after a pause) if it dies. */
export class RelayThread {
  private worker!: Worker;
  private readonly pending = new Map<number, (reply: ThreadReply) => void>();
  private nextId = 0;
  /** The one status request in flight: concurrent callers share it, so `pending` holds at most one reply. */
  private statusRequest: Promise<RelayThreadStatus> | undefined;
  private stopped: Promise<OutboxMetrics | undefined> | undefined;
  private running = false;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private lastWake = Number.NEGATIVE_INFINITY;
  private wakeTimer: NodeJS.Timeout | undefined;
  /**
   * Shared with the worker (WAKE_*): whether a wake-up is on its way that the relay's next claim has
   * not consumed yet (the claim clears it before it reads the outbox); whether the relay is idle
   * (its onIdle); and a count of the server's commits. A message goes only to an idle relay, at most
   * one per claim: a relay at work looks for rows before it sleeps anyway, and learns of rows
   * committed during its batch from the count (its linger) and, once it says it is idle, of rows
   * committed since its claim read the outbox (relay.ts idleWithArrivals). Each postMessage to the worker wakes that
   * thread: ~100 µs of the request thread's CPU on the bench's machine, 7.5 % of it at saturation
   * when every commit after a claim sent one.
   */
  private wakeState = new Int32Array(new SharedArrayBuffer(4 * 3));
  /** Shared with the worker: [the relay's cursor, the cursor the server has committed] (RelayThreadOptions.cursor). */
  private cursorShared = new BigInt64Array(new SharedArrayBuffer(16));

  /**
   * The relay's cursor for the server's group commit: `pending()` is a cursor the worker's relay
   * reached and the server has not committed (else undefined), `committed(seq)` marks it committed.
   */
  readonly relayCursor = {
    pending: (): number | undefined => {
      const wanted = Atomics.load(this.cursorShared, 0);
      return wanted > Atomics.load(this.cursorShared, 1) ? Number(wanted) : undefined;
    },
    committed: (seq: number): void => {
      if (BigInt(seq) > Atomics.load(this.cursorShared, 1)) Atomics.store(this.cursorShared, 1, BigInt(seq));
    },
  };
  private finalMetrics: OutboxMetrics | undefined;
  private disabledBy: string | undefined;
  private offEnqueue: (() => void) | undefined;

  private constructor(
    private readonly setup: RelaySetup,
    private readonly logger: Logger,
    private readonly options: RelayThreadOptions,
  ) {}

  /**
   * Set when the relay refused the publisher because the stream is disabled (see isPublisherDisabled):
   * the refusal. The worker has ended and is not restarted — the same environment would be refused
   * again; the events wait in the outbox until the backend is configured and the demo restarted.
   */
  get disabled(): string | undefined {
    return this.disabledBy;
  }

  /**
   * Starts the worker with `setup` and resolves once its relay runs (then enqueues on
   * `options.outbox` wake it), or once it refused a disabled stream (then `disabled` says why);
   * rejects with the worker's error otherwise.
   */
  static async start(setup: RelaySetup, logger: Logger, options: RelayThreadOptions = {}): Promise<RelayThread> {
    const thread = new RelayThread(setup, logger, options);
    await thread.spawn();
    if (!thread.disabledBy) thread.offEnqueue = options.outbox?.onEnqueue(() => thread.wake());
    return thread;
  }

  private spawn(): Promise<void> {
    // From dist/ the worker is this very file; from src/ (tests run the TypeScript) the built copy.
    const self =
      this.options.script ?? new URL(import.meta.url.endsWith(".ts") ? "../dist/relay-thread.js" : import.meta.url, import.meta.url);
    const env = this.options.env ?? process.env;
    this.wakeState = new Int32Array(new SharedArrayBuffer(4 * 3));
    this.cursorShared = new BigInt64Array(new SharedArrayBuffer(16));
    const cursor = this.options.cursor !== undefined ? this.cursorShared : undefined;
    const worker = new Worker(self, {
      workerData: {
        relayThread: true,
        setup: this.setup,
        cursor,
        cursorTimeoutMs: this.options.cursorTimeoutMs ?? CURSOR_TIMEOUT_MS,
        wakeState: this.wakeState,
      },
      env: { ...env },
    });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on("message", (m: FromWorker) => {
        if (m.type === "ready") {
          started = true;
          this.running = true;
          resolve();
        } else if (m.type === "disabled") {
          started = true;
          this.disabledBy = m.message;
          resolve();
        } else if (m.type === "failed") reject(new Error(m.message));
        else if (m.type === "metrics") {
          this.pending.get(m.id)?.(m);
          this.pending.delete(m.id);
        } else if (m.type === "cursor") this.commitCursor(worker, m.id, m.seq);
        else if (m.type === "stopped") this.finalMetrics = m.metrics;
      });
      // Always listened to: an 'error' event without a listener would take the server down.
      worker.on("error", (error) => {
        if (!started) reject(error);
        else this.logger.error(`[demo] relay thread failed: ${error.message}`);
      });
      worker.once("exit", (code) => {
        this.running = false;
        for (const answer of this.pending.values()) answer({ metrics: "relay thread exited", publisher: undefined });
        this.pending.clear();
        if (!started) reject(new Error(`[demo] relay thread exited with code ${code} before it started`));
        else if (!this.stopped && !this.disabledBy) this.restartLater(code);
      });
    });
  }

  /** The worker's cursor, committed by the server's writer; the answer says whether it was. */
  private commitCursor(worker: Worker, id: number, seq: number): void {
    const answer = (error?: unknown) => {
      const m: ToWorker = {
        type: "cursor-done",
        id,
        error: error === undefined ? undefined : redactText(String((error as Error)?.message ?? error), this.setup.secrets),
      };
      try {
        worker.postMessage(m);
      } catch {
        // The worker is gone; its rows stay pending for the next one.
      }
    };
    const write = this.options.cursor;
    if (!write) {
      answer(new Error("the server commits no cursor for this relay"));
      return;
    }
    write(seq).then(
      () => {
        this.relayCursor.committed(seq);
        answer();
      },
      (error: unknown) => answer(error ?? new Error("cursor write failed")),
    );
  }

  /** Events stay in the outbox while the thread is down; a new one picks them up. */
  private restartLater(code: number): void {
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(this.restarts++, 5));
    this.logger.error(`[demo] relay thread exited (code ${code}); events wait in the outbox; restarting in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.spawn().then(
        () => this.logger.info("[demo] relay thread restarted"),
        (error: Error) => {
          this.logger.error(`[demo] relay thread restart failed: ${error.message}`);
          if (!this.stopped) this.restartLater(1);
        },
      );
    }, delay);
    this.restartTimer.unref();
  }

  /**
   * New rows are committed: claim now instead of at the next poll. At most one message per
   * WAKE_EVERY_MS (a postMessage costs the request thread a few µs, and under load the relay is
   * busy or lingering anyway); a wake-up that falls inside the window is sent at its end.
   */
  wake(): void {
    Atomics.add(this.wakeState, WAKE_COMMITS, 1);
    if (!this.running || this.wakeTimer) return;
    // At work (it looks for rows before it sleeps), or a wake-up is on its way whose claim has not started.
    if (Atomics.load(this.wakeState, WAKE_IDLE) === 0 || Atomics.load(this.wakeState, WAKE_PENDING) === 1) return;
    const now = performance.now();
    const wait = this.lastWake + WAKE_EVERY_MS - now;
    if (wait <= 0) {
      this.lastWake = now;
      Atomics.store(this.wakeState, WAKE_PENDING, 1);
      this.worker.postMessage({ type: "wake" } satisfies ToWorker);
      return;
    }
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wake();
    }, wait);
  }

  /**
   * The relay's metrics and the publisher's readiness, as the worker reports them. Bounded: a worker
   * that does not reply within statusTimeoutMs (stuck in a long synchronous step, say) is reported
   * as `timeout: …`, and its late reply is dropped.
   */
  status(): Promise<RelayThreadStatus> {
    if (!this.running) {
      const why = this.stopped
        ? "relay thread stopped"
        : this.disabledBy
          ? "relay not running: the stream is disabled"
          : "relay thread restarting";
      return Promise.resolve({ relay: why, publisher: undefined });
    }
    this.statusRequest ??= this.askStatus().finally(() => {
      this.statusRequest = undefined;
    });
    return this.statusRequest;
  }

  private async askStatus(): Promise<RelayThreadStatus> {
    const ms = this.options.statusTimeoutMs ?? HEALTH_TIMEOUT_MS;
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    const reply = await new Promise<ThreadReply>((resolve) => {
      this.pending.set(id, resolve);
      timer = setTimeout(() => {
        const timeout = `timeout: the relay thread did not answer within ${ms} ms`;
        resolve({ metrics: timeout, publisher: timeout });
      }, ms);
      this.worker.postMessage({ type: "metrics", id } satisfies ToWorker);
    }).finally(() => {
      clearTimeout(timer);
      this.pending.delete(id);
    });
    return { relay: reply.metrics, publisher: reply.publisher, publisherMetrics: reply.publisherMetrics };
  }

  /** Lets the relay finish its batch, closes its publisher and connection, ends the thread. */
  stop(): Promise<OutboxMetrics | undefined> {
    this.offEnqueue?.();
    clearTimeout(this.wakeTimer);
    clearTimeout(this.restartTimer);
    this.wakeTimer = undefined;
    this.stopped ??= new Promise((resolve) => {
      if (!this.running) return resolve(undefined);
      this.worker.once("exit", () => resolve(this.finalMetrics));
      this.worker.postMessage({ type: "stop" } satisfies ToWorker);
    });
    return this.stopped;
  }
}

/**
 * The worker's side of RelayThreadOptions.cursor. The relay's cursor goes into shared memory
 * (`cursor[0]`), which the server's store writes with its next group commit and marks committed
 * (`cursor[1]`): under traffic no message at all. A cursor still uncommitted after
 * CURSOR_NUDGE_MS (no request came) is sent to the server to commit on its own. Each write's promise
 * settles once the server has committed it, or rejects (the server's error, or `timeoutMs`): the
 * relay then goes back to the stored cursor and sends those rows again. One nudge is in flight at a
 * time; one the server has not answered within `timeoutMs` is forgotten, so the next is sent.
 */
function serverCursorWriter(
  port: NonNullable<typeof parentPort>,
  send: (m: FromWorker) => void,
  cursor: BigInt64Array,
  timeoutMs: number,
): (seq: number) => Promise<void> {
  const waiting: Array<{ seq: number; since: number; resolve: () => void; reject: (error: Error) => void }> = [];
  const nudges = new Map<number, { seq: number; sent: number }>();
  let nextId = 0;
  // A check is scheduled; unref'd: a stopping worker exits without waiting for its last cursor (the server commits it).
  let scheduled = false;
  const later = () => {
    scheduled = true;
    setTimeout(check, CURSOR_NUDGE_MS).unref();
  };
  const settle = (upTo: number, error?: Error) => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i] as (typeof waiting)[number];
      if (w.seq > upTo) continue;
      waiting.splice(i, 1);
      if (error) w.reject(error);
      else w.resolve();
    }
  };
  const check = () => {
    scheduled = false;
    settle(Number(Atomics.load(cursor, 1)));
    const now = performance.now();
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i] as (typeof waiting)[number];
      if (now - w.since < timeoutMs) continue;
      waiting.splice(i, 1);
      w.reject(new Error(`[demo] the server did not commit the relay's cursor within ${timeoutMs} ms`));
    }
    // A nudge the server never answered (its write hangs) would otherwise block every later one.
    for (const [id, nudge] of nudges) if (now - nudge.sent >= timeoutMs) nudges.delete(id);
    if (waiting.length === 0) return;
    if (nudges.size === 0) {
      const seq = Math.max(...waiting.map((w) => w.seq));
      const id = nextId++;
      nudges.set(id, { seq, sent: now });
      send({ type: "cursor", id, seq });
    }
    later();
  };
  port.on("message", (m: ToWorker) => {
    if (m.type !== "cursor-done") return;
    const seq = nudges.get(m.id)?.seq;
    nudges.delete(m.id);
    if (seq === undefined) return;
    if (m.error === undefined) settle(seq);
    else settle(seq, new Error(`[demo] the server could not commit the relay's cursor: ${m.error}`));
  });
  return (seq) =>
    new Promise<void>((resolve, reject) => {
      if (BigInt(seq) > Atomics.load(cursor, 0)) Atomics.store(cursor, 0, BigInt(seq));
      waiting.push({ seq, since: performance.now(), resolve, reject });
      if (!scheduled) later();
    });
}

/** The worker's side of RelayThread.wakeState. */
function wakeHooks(state: Int32Array): RelayHooks {
  let commitsAtClaim = 0;
  return {
    // Before the claim reads the outbox: a commit after this is for rows the claim may miss.
    beforeClaim: () => {
      Atomics.store(state, WAKE_PENDING, 0);
      commitsAtClaim = Atomics.load(state, WAKE_COMMITS);
    },
    onIdle: (idle) => Atomics.store(state, WAKE_IDLE, idle ? 1 : 0),
    rowsArrived: () => Atomics.load(state, WAKE_COMMITS) !== commitsAtClaim,
  };
}

async function runWorker(
  setup: RelaySetup,
  cursor: BigInt64Array | undefined,
  cursorTimeoutMs: number,
  wakeState: Int32Array | undefined,
): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const send = (m: FromWorker) => port.postMessage(m);
  const { secrets } = setup;
  // The thread's own SDK (OTLP only): spans and metrics of the relay's sends; /metrics is the server thread's.
  const telemetry = await startTelemetry(process.env, { prometheus: false }).catch(() => undefined);
  try {
    const cursorWriter = cursor ? serverCursorWriter(port, send, cursor, cursorTimeoutMs) : undefined;
    const { publisher, relay, stop } = await runRelay(setup, consoleLogger, { cursorWriter, hooks: wakeState && wakeHooks(wakeState) });
    port.on("message", async (m: ToWorker) => {
      if (m.type === "wake") relay.notify();
      else if (m.type === "metrics") {
        const [metrics, ready] = await Promise.all([
          within(() => relay.metrics(), WORKER_HEALTH_TIMEOUT_MS, "relay.metrics()"),
          within(() => publisher.ready(), WORKER_HEALTH_TIMEOUT_MS, "publisher.ready()"),
        ]);
        send({
          type: "metrics",
          id: m.id,
          metrics: redactDeep(metrics, secrets),
          publisher: redactDeep(ready, secrets),
          publisherMetrics: publisher.metrics(),
        });
      } else if (m.type === "stop") {
        const metrics = await stop();
        await telemetry?.shutdown();
        send({ type: "stopped", metrics });
        port.close();
      }
    });
    send({ type: "ready" });
  } catch (error) {
    const message = redactText((error as Error)?.message ?? String(error), secrets);
    send(isPublisherDisabled(error) ? { type: "disabled", message } : { type: "failed", message });
    port.close();
  }
}

const data = workerData as
  | { relayThread?: boolean; setup: RelaySetup; cursor?: BigInt64Array; cursorTimeoutMs: number; wakeState?: Int32Array }
  | undefined;
if (!isMainThread && data?.relayThread) await runWorker(data.setup, data.cursor, data.cursorTimeoutMs, data.wakeState);
