// One batch of the relay: claim rows, turn them back into events, publish them with one
// publishBatch, and decide each row's outcome — sent, a retry with exponential backoff + jitter, or
// dead after `maxAttempts` (at once for an error no retry can fix). Also the relay's one question to
// the publisher before it sends anything: is it a disabled stream?

import {
  type BackoffOptions,
  backoffDelay,
  ConfigError,
  type DomainEvent,
  DURATION_BUCKETS,
  EventsError,
  type Logger,
  messagingSystem,
  type Publisher,
  type PublishResult,
  telemetryHistogram,
} from "@kaireon/events-core/backend";
import { fromPayload } from "./outbox-rows.js";
import type { ClaimedRow, OutboxStore, RowOutcome } from "./outbox-store.js";

const ERROR_TEXT_LIMIT = 2000;
// The start-up readiness question must not hold start() for long; a publisher that does not answer
// is let through (a disabled result is still never counted sent, see publishClaimed).
const READY_CHECK_MS = 5000;

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

export interface BatchCounts {
  sent: number;
  retried: number;
  dead: number;
  batches: number;
  pruned: number;
  storeErrors: number;
  notSent: number;
}

export interface BatchSenderOptions {
  store: OutboxStore;
  publisher: Publisher;
  batchSize: number;
  maxAttempts: number;
  backoff: BackoffOptions;
  logger: Logger;
  random: () => number;
}

/** Sends claimed batches for one relay and keeps its counts. */
/** OpenTelemetry (when the application registered an SDK): from the event's creation in the enqueuing transaction to the broker's ack. */
const relayLag = telemetryHistogram("kaireon.outbox.relay.lag", {
  unit: "s",
  description: "Time from an event's creation in the enqueuing transaction to the broker's acknowledgement of the relay's send",
  buckets: [...DURATION_BUCKETS, 30, 60, 300, 900, 3600],
});

export class BatchSender {
  readonly counts: BatchCounts = { sent: 0, retried: 0, dead: 0, batches: 0, pruned: 0, storeErrors: 0, notSent: 0 };
  /** The publisher is a disabled stream: it said so, or it accepted events without sending them. */
  publisherDisabled = false;
  /** Rows of the last batch that the publisher accepted without sending: the loop backs off. */
  lastNotSent = 0;
  /** Events parsed from the rows read ahead during the last full batch, by seq. */
  private readAhead: Map<number, { payload: string; event: DomainEvent }> | undefined;
  /** The readiness answer, asked once (a disabled publisher never turns into a working one). */
  private publisherChecked: Promise<void> | undefined;

  constructor(private readonly o: BatchSenderOptions) {}

  checkPublisher(): Promise<void> {
    this.publisherChecked ??= (async () => {
      const { publisher } = this.o;
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
        this.publisherDisabled = true;
        throw disabledPublisherError(report.backend ?? publisher.backend, report.detail);
      }
    })();
    return this.publisherChecked;
  }

  /** Claims, publishes and completes one batch; returns how many rows got an outcome. */
  async sendOne(): Promise<number> {
    const { store, batchSize, logger, publisher } = this.o;
    const counts = this.counts;
    this.lastNotSent = 0;
    const claim = await store.claim(batchSize);
    const rows = claim.rows;
    if (rows.length === 0) return 0;
    try {
      const decided: (RowOutcome | undefined)[] = new Array(rows.length);
      const events: DomainEvent[] = [];
      const slots: number[] = [];
      const readAhead = this.readAhead;
      this.readAhead = undefined;
      rows.forEach((row, i) => {
        try {
          const early = readAhead?.get(row.seq);
          events.push(early !== undefined && early.payload === row.payload ? early.event : fromPayload(row.payload));
          slots.push(i);
        } catch (error) {
          // A row that is not a readable event can never be sent: retrying would only delay the dead letter.
          decided[i] = { seq: row.seq, status: "dead", attempts: row.attempts + 1, error: `unreadable payload: ${describeError(error)}` };
        }
      });
      // publishBatch settles each event on its own and rejects as a whole only when the publisher is
      // closed (the Publisher contract): that says nothing about these events, so no attempt is
      // counted — the claim is abandoned below and the rows wait, untouched, for a working publisher.
      const publishing = this.publishAll(events);
      // A full batch: a backlog is draining. Read and parse the next rows while this one is out, so
      // the database's share of the next batch overlaps the broker's round trip instead of following it.
      const ahead = rows.length >= batchSize && store.readAhead ? this.readNext(rows) : undefined;
      const results = await publishing;
      await ahead;
      const lagAt = relayLag.enabled() ? Date.now() : undefined;
      const lagAttributes = { "messaging.system": messagingSystem(publisher.backend), "kaireon.outbox.store": store.kind };
      let notSent = 0;
      slots.forEach((i, j) => {
        const row = rows[i] as ClaimedRow;
        const result = results[j];
        if (result?.status === "rejected") decided[i] = this.outcomeFor(row, result.reason);
        else if (result?.value?.status === "published") {
          decided[i] = { seq: row.seq, status: "sent" };
          if (lagAt !== undefined) {
            const created = Date.parse((events[j] as DomainEvent).time);
            if (Number.isFinite(created)) relayLag.record(Math.max(0, lagAt - created) / 1000, lagAttributes);
          }
        }
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
        this.lastNotSent = notSent;
        if (!this.publisherDisabled) {
          logger.error(
            `[outbox] the publisher (backend "${publisher.backend}") accepted ${notSent} event(s) without sending them (stream disabled?) — they stay pending; configure the backend`,
          );
        }
        this.publisherDisabled = true;
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

  /**
   * After the publish has gone out (setImmediate: the publisher's write is done by then), reads the
   * rows after `rows` and parses them; the next batch takes each event whose row still has the same
   * text. A row that cannot be parsed is left to the next batch, which parks it as usual.
   */
  private readNext(rows: readonly ClaimedRow[]): Promise<void> {
    const { store, batchSize } = this.o;
    const last = (rows[rows.length - 1] as ClaimedRow).seq;
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        try {
          const next = new Map<number, { payload: string; event: DomainEvent }>();
          for (const row of store.readAhead?.(last, batchSize) ?? []) {
            try {
              next.set(row.seq, { payload: row.payload, event: fromPayload(row.payload) });
            } catch {
              // Parsed (and parked) by the batch that claims it.
            }
          }
          this.readAhead = next;
        } catch {
          // Only a head start: the next claim reads the rows itself.
        }
        resolve();
      });
    });
  }

  private outcomeFor(row: ClaimedRow, error: unknown): RowOutcome {
    const attempts = row.attempts + 1;
    const text = describeError(error);
    // retryable false: the event itself is refused (invalid, too large), so sending it again gives the same answer.
    const permanent = EventsError.isInstance(error) && error.retryable === false;
    if (permanent || attempts >= this.o.maxAttempts) return { seq: row.seq, status: "dead", attempts, error: text };
    return { seq: row.seq, status: "retry", attempts, error: text, delayMs: backoffDelay(attempts - 1, this.o.backoff, this.o.random) };
  }

  /**
   * publishBatch, except that a batch which throws or rejects as a whole (a backend bug, a synchronous
   * TypeError on one event) is sent again one event at a time, so only the event at fault fails.
   * A closed publisher still rejects the whole call: nothing is known about these events.
   */
  private async publishAll(events: readonly DomainEvent[]): Promise<PromiseSettledResult<PublishResult>[]> {
    const { publisher, logger } = this.o;
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
}
