// The relay: moves committed outbox rows to a Publisher. It claims a batch (oldest first, order per
// key), publishes it with one publishBatch, marks each row sent, schedules a retry with exponential
// backoff + jitter, or parks it as dead after `maxAttempts` with its last error. It sleeps until an
// enqueue in this process, a PostgreSQL NOTIFY from another one, the next retry, or the poll interval.

import {
  type BackoffOptions,
  backoffDelay,
  ConfigError,
  consoleLogger,
  type DomainEvent,
  EventsError,
  type Logger,
  type Publisher,
  type PublishResult,
  sleep,
} from "@kaireon/events-core";
import { fromPayload } from "./outbox-rows.js";
import type { ClaimedRow, OutboxStats, OutboxStore, RowOutcome } from "./outbox-store.js";

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
   * After a batch that was not full, how long a wake-up (a new row) waits before the next claim, so
   * rows arriving together go out in one batch: fewer round trips and database writes per event
   * under load, at most this much added latency. Default 0 (claim at once).
   */
  lingerMs?: number;
  /** Longest sleep between checks when no wake-up arrives. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Deletion of sent rows; `false` keeps them forever. */
  retention?: Partial<OutboxRetention> | false;
  /** Create/upgrade the tables on start(). Default true. */
  migrate?: boolean;
  /** Stop (finishing the in-flight batch) on these signals, e.g. ["SIGTERM", "SIGINT"]. Default none. */
  stopOnSignals?: readonly NodeJS.Signals[];
  logger?: Logger;
  /** For tests: the jitter source. */
  random?: () => number;
}

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
const ERROR_TEXT_LIMIT = 2000;
const PRUNE_CHUNK = 10_000;
// The start-up readiness question must not hold start() for long; a publisher that does not answer
// is let through (a disabled result is still never counted sent, see publishClaimed).
const READY_CHECK_MS = 5000;
// The event itself is refused: sending it again gives the same answer.
const PERMANENT = new Set(["VALIDATION_FAILED", "UNKNOWN_TOPIC", "EVENT_TOO_LARGE", "MALFORMED_MESSAGE"]);

function positiveInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError({ backend: "outbox", message: `[outbox] relay option "${name}" is ${value} — use a whole number ≥ ${min}` });
  }
  return value;
}

export function describeError(error: unknown): string {
  const text = EventsError.isInstance(error)
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);
  return text.length > ERROR_TEXT_LIMIT ? `${text.slice(0, ERROR_TEXT_LIMIT)}…` : text;
}

/** The ConfigError for a publisher that is deliberately off: nothing it accepts is ever sent. */
function disabledPublisherError(backend: string, detail: string | undefined): ConfigError {
  const cause = (detail ?? "the stream is disabled").replace(/^disabled:\s*/, "");
  return new ConfigError({
    backend: "outbox",
    message: `[outbox] the publisher is disabled (backend "${backend}": ${cause}), so the relay would mark rows sent that went nowhere — configure the backend (e.g. set REDIS_URL, or pick another EVENT_PUBLISHER) and restart; the rows stay pending until then`,
    details: { reason: "publisher-disabled", backend },
  });
}

function isClosedError(error: unknown): boolean {
  return EventsError.isInstance(error) && error.code === "PUBLISHER_CLOSED";
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { store, publisher } = options;
  const batchSize = positiveInt("batchSize", options.batchSize ?? 100, 1);
  const maxAttempts = positiveInt("maxAttempts", options.maxAttempts ?? 25, 1);
  const pollIntervalMs = positiveInt("pollIntervalMs", options.pollIntervalMs ?? 1000, 1);
  const lingerMs = options.lingerMs === undefined ? 0 : positiveInt("lingerMs", options.lingerMs, 0);
  const backoff = options.backoff ?? { baseMs: 500, maxMs: 5 * 60 * 1000 };
  const retention = options.retention === false ? undefined : { ...DEFAULT_RETENTION, ...options.retention };
  const logger = options.logger ?? consoleLogger;
  const random = options.random ?? Math.random;

  const counts = { sent: 0, retried: 0, dead: 0, batches: 0, pruned: 0, storeErrors: 0, notSent: 0 };
  let publisherDisabled = false;
  // The readiness answer, asked once (a disabled publisher never turns into a working one).
  let publisherChecked: Promise<void> | undefined;
  // Rows of the last batch that the publisher accepted without sending: the loop backs off.
  let lastNotSent = 0;
  let running = false;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let loop: Promise<void> | undefined;
  let woken = false;
  let sleeper: AbortController | undefined;
  let lingerer: AbortController | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let offEnqueue: (() => void) | undefined;
  let lastPrune = 0;
  // One batch at a time per relay: runOnce() and the loop share this chain.
  let inFlight: Promise<number> = Promise.resolve(0);
  const signalHandlers: Array<[NodeJS.Signals, () => void]> = [];

  function wake() {
    woken = true;
    sleeper?.abort();
  }

  function outcomeFor(row: ClaimedRow, error: unknown): RowOutcome {
    const attempts = row.attempts + 1;
    const text = describeError(error);
    const permanent = EventsError.isInstance(error) && PERMANENT.has(error.code);
    if (permanent || attempts >= maxAttempts) return { seq: row.seq, status: "dead", attempts, error: text };
    return { seq: row.seq, status: "retry", attempts, error: text, delayMs: backoffDelay(attempts - 1, backoff, random) };
  }

  function checkPublisher(): Promise<void> {
    publisherChecked ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const report = await Promise.race([
        Promise.resolve()
          .then(() => publisher.ready())
          .catch(() => undefined),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(resolve, READY_CHECK_MS, undefined);
        }),
      ]);
      clearTimeout(timer);
      if (report?.disabled) {
        publisherDisabled = true;
        throw disabledPublisherError(report.backend ?? publisher.backend, report.detail);
      }
    })();
    return publisherChecked;
  }

  /**
   * publishBatch, except that a batch which throws or rejects as a whole (a backend bug, a synchronous
   * TypeError on one event) is sent again one event at a time, so only the event at fault fails.
   * A closed publisher still rejects the whole call: nothing is known about these events.
   */
  async function publishAll(events: readonly DomainEvent[]): Promise<PromiseSettledResult<PublishResult>[]> {
    if (events.length === 0) return [];
    try {
      return await publisher.publishBatch(events);
    } catch (error) {
      if (isClosedError(error)) throw error;
      // The event at fault is known: it fails (an attempt counted, dead after maxAttempts) instead of
      // the batch being abandoned and claimed again for ever.
      if (events.length === 1) return [{ status: "rejected", reason: error }];
      logger.warn(`[outbox] publishBatch failed as a whole, sending its ${events.length} events one by one: ${describeError(error)}`);
    }
    const results: PromiseSettledResult<PublishResult>[] = [];
    // One at a time, in order: two events of a key must not race each other.
    for (const event of events) {
      try {
        const [result] = await publisher.publishBatch([event]);
        results.push(result ?? { status: "rejected", reason: new Error("publishBatch returned no result") });
      } catch (error) {
        if (isClosedError(error)) throw error;
        results.push({ status: "rejected", reason: error });
      }
    }
    return results;
  }

  async function publishClaimed(): Promise<number> {
    lastNotSent = 0;
    const claim = await store.claim(batchSize);
    const rows = claim.rows;
    if (rows.length === 0) return 0;
    try {
      const decided: (RowOutcome | undefined)[] = new Array(rows.length);
      const events: DomainEvent[] = [];
      const slots: number[] = [];
      rows.forEach((row, i) => {
        try {
          events.push(fromPayload(row.payload));
          slots.push(i);
        } catch (error) {
          // A row that is not a readable event can never be sent: retrying would only delay the dead letter.
          decided[i] = { seq: row.seq, status: "dead", attempts: row.attempts + 1, error: `unreadable payload: ${describeError(error)}` };
        }
      });
      // publishBatch settles each event on its own and rejects as a whole only when the publisher is
      // closed (the Publisher contract): that says nothing about these events, so no attempt is
      // counted — the claim is abandoned below and the rows wait, untouched, for a working publisher.
      const results = await publishAll(events);
      let notSent = 0;
      slots.forEach((i, j) => {
        const row = rows[i] as ClaimedRow;
        const result = results[j];
        if (result?.status === "rejected") decided[i] = outcomeFor(row, result.reason);
        else if (result?.value?.status === "published") decided[i] = { seq: row.seq, status: "sent" };
        // Accepted but not sent (a disabled stream) or no answer at all: no outcome, so the row stays
        // pending with no attempt counted.
        else notSent++;
      });
      const outcomes = decided.filter((o): o is RowOutcome => o !== undefined);
      await claim.complete(outcomes);
      counts.batches++;
      for (const o of outcomes) {
        if (o.status === "sent") counts.sent++;
        else if (o.status === "retry") counts.retried++;
        else {
          counts.dead++;
          logger.error(`[outbox] event parked as dead after ${o.attempts} attempts: ${o.error}`, { seq: o.seq });
        }
      }
      if (notSent > 0) {
        counts.notSent += notSent;
        lastNotSent = notSent;
        if (!publisherDisabled) {
          logger.error(
            `[outbox] the publisher (backend "${publisher.backend}") accepted ${notSent} event(s) without sending them (stream disabled?) — they stay pending; configure the backend`,
          );
        }
        publisherDisabled = true;
      }
      const failed = outcomes.find((o) => o.status === "retry");
      if (failed && failed.status === "retry") {
        logger.warn(`[outbox] ${outcomes.filter((o) => o.status === "retry").length} event(s) will be retried: ${failed.error}`);
      }
      return outcomes.length;
    } catch (error) {
      // The rows stay pending and are sent again later: at-least-once, never lost.
      await claim.abandon().catch(() => {});
      throw error;
    }
  }

  function runOnce(): Promise<number> {
    const next = inFlight
      .catch(() => 0)
      .then(async () => {
        await checkPublisher();
        return publishClaimed();
      });
    inFlight = next.catch(() => 0);
    return next;
  }

  async function prune(): Promise<number> {
    if (!retention) return 0;
    lastPrune = Date.now();
    let total = 0;
    // Chunks keep each delete short so it never holds the table for long, and the event loop runs
    // between them: with SQLite every chunk is synchronous work on the app's thread.
    for (;;) {
      const n = await store.pruneSent(retention.sentMs, PRUNE_CHUNK);
      total += n;
      if (n < PRUNE_CHUNK) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    counts.pruned += total;
    return total;
  }

  async function idle(handled: number): Promise<void> {
    if (woken || stopping) return;
    let wait = pollIntervalMs;
    try {
      const due = await store.nextDueInMs();
      if (due !== undefined) wait = Math.min(wait, handled === 0 ? Math.max(due, CONTENDED_WAIT_MS) : due);
    } catch {
      // Poll at the normal interval; the next tick reports the database error.
    }
    if (wait <= 0 || woken || stopping) return;
    sleeper = new AbortController();
    await sleep(wait, sleeper.signal);
    sleeper = undefined;
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      woken = false;
      let handled = 0;
      try {
        handled = await runOnce();
        failures = lastNotSent > 0 ? failures + 1 : 0;
        if (retention && Date.now() - lastPrune >= retention.intervalMs) await prune();
      } catch (error) {
        counts.storeErrors++;
        failures++;
        logger.error(`[outbox] relay tick failed, rows stay pending: ${describeError(error)}`);
        sleeper = new AbortController();
        await sleep(Math.min(pollIntervalMs * 5, backoffDelay(failures, { baseMs: 100, maxMs: 30_000 }, random) + 50), sleeper.signal);
        sleeper = undefined;
        continue;
      }
      // Yield to the event loop between batches: with a synchronous store (SQLite) and an in-process
      // backend a tick is all microtasks, and back-to-back ticks would starve timers and the app's I/O.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (lastNotSent > 0) {
        // Claiming again at once would hand the same rows to the same publisher: back off instead.
        sleeper = new AbortController();
        await sleep(Math.min(pollIntervalMs * 5, backoffDelay(failures, { baseMs: 100, maxMs: 30_000 }, random) + 50), sleeper.signal);
        sleeper = undefined;
        continue;
      }
      if (handled >= batchSize) continue;
      await idle(handled);
      if (lingerMs > 0 && !stopping) {
        // Woken by a new row (or the poll): let its company arrive before claiming. Further
        // wake-ups do not cut this short; stop() does.
        lingerer = new AbortController();
        await sleep(lingerMs, lingerer.signal);
        lingerer = undefined;
      }
    }
  }

  async function begin(): Promise<void> {
    await checkPublisher();
    if (options.migrate !== false) await store.migrate();
    offEnqueue = store.onEnqueue(wake);
    if (store.listen) {
      unlisten = await store.listen(wake, (error) =>
        logger.warn(`[outbox] LISTEN connection lost, polling until it is back: ${describeError(error)}`),
      );
    }
    for (const signal of options.stopOnSignals ?? []) {
      const handler = () => {
        logger.info(`[outbox] ${signal}: finishing the in-flight batch, then stopping`);
        void relay.stop();
      };
      process.once(signal, handler);
      signalHandlers.push([signal, handler]);
    }
    running = true;
    loop = run();
  }

  const relay: OutboxRelay = {
    start() {
      starting ??= (async () => {
        try {
          await begin();
        } catch (error) {
          starting = undefined; // a failed start (database down) may be retried
          throw error;
        }
      })();
      return starting;
    },

    stop() {
      stopping ??= (async () => {
        await starting?.catch(() => {});
        sleeper?.abort();
        lingerer?.abort();
        await loop;
        await inFlight;
        offEnqueue?.();
        await unlisten?.().catch(() => {});
        for (const [signal, handler] of signalHandlers) process.removeListener(signal, handler);
        running = false;
      })();
      return stopping;
    },

    notify: wake,
    runOnce,
    prune,

    async metrics() {
      const stats = await store.stats();
      return { ...stats, ...counts, publisherDisabled, running };
    },
  };
  return relay;
}
