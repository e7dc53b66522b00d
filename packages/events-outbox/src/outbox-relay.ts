// The relay: moves committed outbox rows to a Publisher, one batch at a time (outbox-relay-batch.ts:
// claim, publish, mark each row sent, retry later or dead). Between batches it sleeps until an
// enqueue in this process, a PostgreSQL NOTIFY from another one, the next retry, or the poll
// interval. Its state has names (`metrics().state`). Signals are the application's: see
// outbox-signals.ts. A little over 300 lines: a third of it is the relay's documented public contract
// (options, metrics, the interface), kept beside the loop that gives it meaning.

import {
  type BackoffOptions,
  backoffDelay,
  ConfigError,
  consoleLogger,
  type Logger,
  observeGauge,
  type Publisher,
  sleep,
} from "@kaireon/events-core/backend";
import { BatchSender, describeError } from "./outbox-relay-batch.js";
import { stopOnSignals } from "./outbox-signals.js";
import type { OutboxStats, OutboxStore } from "./outbox-store.js";

export { describeError } from "./outbox-relay-batch.js";

export interface OutboxRetention {
  /** Sent rows older than this are deleted. Default 24 h. */
  sentMs: number;
  /** How often the relay prunes. Default 10 min (and once at start). */
  intervalMs: number;
}

export interface OutboxRelayOptions {
  store: OutboxStore;
  /** Any core Publisher (e.g. the one loadPublisher() built from EVENT_PUBLISHER). The relay never closes it. */
  publisher: Publisher;
  /** Rows per publishBatch. Default 100. */
  batchSize?: number;
  /**
   * A row that failed this many sends is parked as dead. Default 25: with the default backoff that is
   * about 40 minutes of failures on average (at most ~83), so a broker outage shorter than that loses
   * no order. Errors that no retry can fix (VALIDATION_FAILED, UNKNOWN_TOPIC, EVENT_TOO_LARGE) park the
   * row at once.
   */
  maxAttempts?: number;
  /** Retry delay: random(0, min(maxMs, baseMs·2^(attempt-1))). Default 500 ms … 5 min. */
  backoff?: BackoffOptions;
  /**
   * How long a busy relay waits for company before its next claim; an idle relay claims a new row at
   * once. Busy: rows were committed while its last batch was in flight, i.e. they arrive faster than
   * it sends. Then it waits this long, so the rows of a busy period go out in fewer batches — fewer
   * round trips and database writes per event — for at most this much more latency. Once a batch
   * goes out with no row committed meanwhile, the relay is idle again. Default 0 (claim at once: the
   * batch in flight is then the only linger).
   */
  lingerMs?: number;
  /** Longest sleep between checks when no wake-up arrives. Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * Called with `true` as the relay, with nothing left to send, is about to look once more for
   * due rows and then sleep until `notify()`, a due retry or the poll; with `false` as it goes back
   * to work. Between the two, a new row needs a `notify()`; outside, the relay looks for rows
   * anyway before it sleeps. For an application whose relay is on another thread, where each
   * `notify()` is a message that wakes that thread: send it only while the relay is idle.
   */
  onIdle?: (idle: boolean) => void;
  /** Deletion of sent rows; `false` keeps them forever. */
  retention?: Partial<OutboxRetention> | false;
  /** Create/upgrade the tables on start(). Default true. */
  migrate?: boolean;
  /**
   * @deprecated Signals are the application's to handle: call `stopOnSignals(relay, signals)` from
   * `@kaireon/events-outbox` instead (same behaviour, and it returns an uninstall function). Still
   * works: installs the handlers at start(), removes them at stop().
   */
  stopOnSignals?: readonly NodeJS.Signals[];
  logger?: Logger;
  /** For tests: the jitter source. */
  random?: () => number;
}

/**
 * What the relay is doing now. `in-flight`: a batch is claimed and being published; `waiting`: for a
 * wake-up, a due retry or the poll interval; `lingering`: rows keep arriving faster than it sends, so
 * it lets more of them join the next batch; `backing-off`: after a database error or a publisher that
 * did not send.
 */
export type OutboxRelayState = "stopped" | "starting" | "running" | "in-flight" | "waiting" | "lingering" | "backing-off" | "stopping";

export interface OutboxMetrics extends OutboxStats {
  /** Rows this relay published and marked sent. */
  sent: number;
  /** Failed sends scheduled for a retry. */
  retried: number;
  /** Rows this relay parked as dead. */
  dead: number;
  /** Batches published. */
  batches: number;
  /** Sent rows deleted by retention. */
  pruned: number;
  /** Ticks that failed on the database itself (the rows stay pending). */
  storeErrors: number;
  /**
   * Rows the publisher accepted without sending (a result with `status: "disabled"`). They are not
   * marked sent and count no attempt: they stay pending.
   */
  notSent: number;
  /**
   * The publisher is a disabled stream (its `ready()` says `disabled`, or it answered "disabled"):
   * the relay refuses it and sends nothing. Alert on it; `/health` should show it.
   */
  publisherDisabled: boolean;
  running: boolean;
  state: OutboxRelayState;
}

export interface OutboxRelay {
  /** Migrates (unless disabled), starts listening and the loop. Idempotent. */
  start(): Promise<void>;
  /** Finishes the in-flight batch, stops listening, resolves. Idempotent; safe from a SIGTERM handler. */
  stop(): Promise<void>;
  /** Wake the loop now (enqueue in this process does it for you). */
  notify(): void;
  /** Claims and publishes one batch without the loop; returns how many rows it handled. */
  runOnce(): Promise<number>;
  /** Deletes sent rows past retention now; returns how many. */
  prune(): Promise<number>;
  metrics(): Promise<OutboxMetrics>;
}

const DEFAULT_RETENTION: OutboxRetention = { sentMs: 24 * 60 * 60 * 1000, intervalMs: 10 * 60 * 1000 };
// When rows are due but none could be claimed (their keys are held by another relay), wait at least
// this long before looking again instead of spinning.
const CONTENDED_WAIT_MS = 25;
const PRUNE_CHUNK = 10_000;
/** The reason a sleep is cut short by notify() or stop() (sleep() resolves whatever the reason). */
const WOKEN = "woken";

function positiveInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError({ backend: "outbox", message: `[outbox] relay option "${name}" is ${value} — use a whole number ≥ ${min}` });
  }
  return value;
}

type Phase = Exclude<OutboxRelayState, "in-flight">;

class Relay implements OutboxRelay {
  private readonly store: OutboxStore;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly lingerMs: number;
  private readonly retention: OutboxRetention | undefined;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly sender: BatchSender;

  private phase: Phase = "stopped";
  /** A batch is claimed and not yet completed (by the loop or runOnce). */
  private batchInFlight = false;
  /** One batch at a time per relay: runOnce() and the loop share this chain. */
  private inFlight: Promise<number> = Promise.resolve(0);
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  /** A wake-up arrived since the loop last looked: do not sleep. */
  private woken = false;
  /** A wake-up arrived while the batch was claimed or in flight: rows come faster than they are sent. */
  private wokenInFlight = false;
  /** Aborts the current sleep (idle, back-off); stop() also aborts the linger. */
  private sleeper: AbortController | undefined;
  private lingerer: AbortController | undefined;
  private lastPrune = 0;
  private readonly detach: Array<() => void | Promise<void>> = [];

  constructor(private readonly options: OutboxRelayOptions) {
    this.store = options.store;
    this.batchSize = positiveInt("batchSize", options.batchSize ?? 100, 1);
    const maxAttempts = positiveInt("maxAttempts", options.maxAttempts ?? 25, 1);
    this.pollIntervalMs = positiveInt("pollIntervalMs", options.pollIntervalMs ?? 1000, 1);
    this.lingerMs = options.lingerMs === undefined ? 0 : positiveInt("lingerMs", options.lingerMs, 0);
    this.retention = options.retention === false ? undefined : { ...DEFAULT_RETENTION, ...options.retention };
    this.logger = options.logger ?? consoleLogger;
    this.random = options.random ?? Math.random;
    const backoff = options.backoff ?? { baseMs: 500, maxMs: 5 * 60 * 1000 };
    this.sender = new BatchSender({
      ...options,
      batchSize: this.batchSize,
      maxAttempts,
      backoff,
      logger: this.logger,
      random: this.random,
    });
    // The methods may be passed around on their own (`store.onEnqueue(relay.notify)`, a signal handler).
    for (const name of ["start", "stop", "notify", "runOnce", "prune", "metrics"] as const) this[name] = this[name].bind(this) as never;
  }

  get state(): OutboxRelayState {
    return this.batchInFlight && this.phase !== "stopping" ? "in-flight" : this.phase;
  }

  start(): Promise<void> {
    this.starting ??= this.begin().catch((error: unknown) => {
      this.starting = undefined; // a failed start (database down) may be retried
      this.phase = "stopped";
      throw error;
    });
    return this.starting;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.phase = "stopping";
      await this.starting?.catch(() => {});
      this.sleeper?.abort(WOKEN);
      this.lingerer?.abort(WOKEN);
      await this.loop;
      await this.inFlight;
      for (const undo of this.detach.splice(0)) await Promise.resolve(undo()).catch(() => {});
      this.phase = "stopped";
    })();
    return this.stopping;
  }

  notify(): void {
    this.woken = true;
    if (this.batchInFlight) this.wokenInFlight = true;
    // With a reason: abort() without one builds a DOMException with its stack, per wake-up.
    this.sleeper?.abort(WOKEN);
  }

  runOnce(): Promise<number> {
    const next = this.inFlight
      .catch(() => 0)
      .then(async () => {
        await this.sender.checkPublisher();
        this.batchInFlight = true;
        this.wokenInFlight = false;
        try {
          return await this.sender.sendOne();
        } finally {
          this.batchInFlight = false;
        }
      });
    this.inFlight = next.catch(() => 0);
    return next;
  }

  async prune(): Promise<number> {
    const retention = this.retention;
    if (!retention) return 0;
    this.lastPrune = Date.now();
    let total = 0;
    // Chunks keep each delete short so it never holds the table for long, and the event loop runs
    // between them: with SQLite every chunk is synchronous work on the app's thread.
    for (;;) {
      const n = await this.store.pruneSent(retention.sentMs, PRUNE_CHUNK);
      total += n;
      if (n < PRUNE_CHUNK) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.sender.counts.pruned += total;
    return total;
  }

  async metrics(): Promise<OutboxMetrics> {
    const stats = await this.store.stats();
    const running = this.phase !== "stopped" && this.phase !== "starting";
    return { ...stats, ...this.sender.counts, publisherDisabled: this.sender.publisherDisabled, running, state: this.state };
  }

  /**
   * The outbox gauges (OpenTelemetry, when the application registered an SDK): backlog, oldest
   * pending age, dead rows. One stats() query serves the three gauges of one collection.
   */
  private observeStats(): Array<() => void> {
    let recent: { at: number; stats: Promise<OutboxStats | undefined> } | undefined;
    const stats = () => {
      if (recent === undefined || Date.now() - recent.at > 1000) {
        recent = { at: Date.now(), stats: this.store.stats().catch(() => undefined) };
      }
      return recent.stats;
    };
    const attributes = { "kaireon.outbox.store": this.store.kind };
    const gauge = (name: string, unit: string, description: string, read: (s: OutboxStats) => number) =>
      observeGauge(name, { unit, description }, async (record) => {
        const s = await stats();
        if (s) record(read(s), attributes);
      });
    return [
      gauge(
        "kaireon.outbox.backlog",
        "{row}",
        "Outbox rows waiting to be sent (pending, including those waiting for a retry)",
        (s) => s.backlog,
      ),
      gauge("kaireon.outbox.oldest_pending.age", "s", "Age of the oldest pending outbox row", (s) => s.oldestPendingAgeMs / 1000),
      gauge("kaireon.outbox.dead", "{row}", "Outbox rows parked as dead", (s) => s.deadRows),
    ];
  }

  private async begin(): Promise<void> {
    this.phase = "starting";
    await this.sender.checkPublisher();
    if (this.options.migrate !== false) await this.store.migrate();
    this.detach.push(this.store.onEnqueue(this.notify));
    this.detach.push(...this.observeStats());
    if (this.store.listen) {
      const unlisten = await this.store.listen(this.notify, (error) =>
        this.logger.warn(`[outbox] LISTEN connection lost, polling until it is back: ${describeError(error)}`),
      );
      this.detach.push(unlisten);
    }
    if (this.options.stopOnSignals?.length) this.detach.push(stopOnSignals(this, this.options.stopOnSignals, { logger: this.logger }));
    if (!this.stopping) this.phase = "running";
    this.loop = this.run();
  }

  /** Sleeps `ms` in `phase`, cut short by notify() (or by stop() through `controller`). */
  private async pause(phase: Phase, ms: number, controller = new AbortController()): Promise<void> {
    if (!this.stopping) this.phase = phase;
    await sleep(ms, controller.signal);
    if (!this.stopping) this.phase = "running";
  }

  private async backOff(failures: number): Promise<void> {
    this.sleeper = new AbortController();
    const ms = Math.min(this.pollIntervalMs * 5, backoffDelay(failures, { baseMs: 100, maxMs: 30_000 }, this.random) + 50);
    await this.pause("backing-off", ms, this.sleeper);
    this.sleeper = undefined;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      this.woken = false;
      let handled = 0;
      try {
        handled = await this.runOnce();
        failures = this.sender.lastNotSent > 0 ? failures + 1 : 0;
        if (this.retention && Date.now() - this.lastPrune >= this.retention.intervalMs) await this.prune();
      } catch (error) {
        this.sender.counts.storeErrors++;
        failures++;
        this.logger.error(`[outbox] relay tick failed, rows stay pending: ${describeError(error)}`);
        await this.backOff(failures);
        continue;
      }
      // Yield to the event loop between batches: with a synchronous store (SQLite) and an in-process
      // backend a tick is all microtasks, and back-to-back ticks would starve timers and the app's I/O.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.sender.lastNotSent > 0) {
        // Claiming again at once would hand the same rows to the same publisher: back off instead.
        await this.backOff(failures);
        continue;
      }
      if (handled >= this.batchSize) continue;
      const busy = handled > 0 && this.wokenInFlight && this.lingerMs > 0 && (await this.rowsWaiting());
      // Busy: rows are due now, so idle() would not sleep; it would only ask the store again.
      if (!busy) await this.idle(handled);
      else if (!this.stopping) {
        // Rows were committed while the last batch was out: more are likely on their way, so let
        // them join the next claim. Further wake-ups do not cut this short; stop() does.
        this.lingerer = new AbortController();
        await this.pause("lingering", this.lingerMs, this.lingerer);
        this.lingerer = undefined;
      }
    }
  }

  /**
   * A wake-up during the batch may be a second one for a row the batch already took (a PostgreSQL
   * NOTIFY arriving after the enqueue's own wake-up, a relay thread's delayed one): only rows that are
   * due now make the relay busy.
   */
  private async rowsWaiting(): Promise<boolean> {
    try {
      return (await this.store.nextDueInMs()) === 0;
    } catch {
      return false; // the next tick reports the database error
    }
  }

  private async idle(handled: number): Promise<void> {
    if (this.woken || this.stopping) return;
    // Said before the last look for due rows: a row committed after that look finds the relay idle.
    this.sayIdle(true);
    try {
      await this.sleepUntilDue(handled);
    } finally {
      this.sayIdle(false);
    }
  }

  private sayIdle(idle: boolean): void {
    try {
      this.options.onIdle?.(idle);
    } catch {
      // A hint for the application only; the relay polls regardless.
    }
  }

  private async sleepUntilDue(handled: number): Promise<void> {
    let wait = this.pollIntervalMs;
    try {
      const due = await this.store.nextDueInMs();
      if (due !== undefined) wait = Math.min(wait, handled === 0 ? Math.max(due, CONTENDED_WAIT_MS) : due);
    } catch {
      // Poll at the normal interval; the next tick reports the database error.
    }
    if (wait <= 0 || this.woken || this.stopping) return;
    this.sleeper = new AbortController();
    await this.pause("waiting", wait, this.sleeper);
    this.sleeper = undefined;
  }
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  return new Relay(options);
}
