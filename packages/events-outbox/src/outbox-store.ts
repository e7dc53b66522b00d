// The contract between the relay and a store (SQLite, PostgreSQL). A store owns its SQL; the relay
// owns the policy (batching, retries, dead-lettering, order per key, waking up).

import type { DomainEvent } from "@kaireon/events-core";

export type OutboxStatus = "pending" | "sent" | "dead";

/** A row the relay may send now. */
export interface ClaimedRow {
  /** Insertion order (the table's primary key); order per key follows it. */
  seq: number;
  eventId: string;
  partitionKey: string;
  /** The envelope JSON exactly as enqueued. */
  payload: string;
  /** Sends tried so far (before this one). */
  attempts: number;
}

/** What the relay decided for one claimed row after publishing. */
export type RowOutcome =
  | { seq: number; status: "sent" }
  | { seq: number; status: "retry"; attempts: number; delayMs: number; error: string }
  | { seq: number; status: "dead"; attempts: number; error: string };

/**
 * One claimed batch. Until `complete` or `abandon` resolves, no other relay sends these rows (or any
 * later row of their keys). `abandon` leaves every row as it was (they will be sent again).
 */
export interface Claim {
  readonly rows: readonly ClaimedRow[];
  complete(outcomes: readonly RowOutcome[]): Promise<void>;
  abandon(): Promise<void>;
}

export interface OutboxStats {
  /** Rows waiting to be sent (pending, including those waiting for a retry). */
  backlog: number;
  /** Age of the oldest pending row in ms; 0 when there is none. */
  oldestPendingAgeMs: number;
  /** Rows parked as dead in the table (all relays, all time, until requeued or deleted). */
  deadRows: number;
}

export interface OutboxStore {
  readonly kind: "sqlite" | "postgres";
  /** Creates or upgrades the tables (versioned, idempotent, safe to run from several processes). */
  migrate(): Promise<void>;
  /** Claims up to `limit` sendable rows: oldest first, each key's rows in order, no key behind a row waiting for retry. */
  claim(limit: number): Promise<Claim>;
  /** Milliseconds until the earliest pending row becomes due (0 = now), or undefined when nothing is pending. */
  nextDueInMs(): Promise<number | undefined>;
  /** Deletes sent rows older than `olderThanMs`, at most `limit`; returns how many. */
  pruneSent(olderThanMs: number, limit: number): Promise<number>;
  stats(): Promise<OutboxStats>;
  /** Dead rows back to pending with attempts reset (after the cause was fixed); returns how many. */
  requeueDead(eventIds?: readonly string[]): Promise<number>;
  /**
   * Calls `wake` when another process commits new rows (PostgreSQL LISTEN). Returns a stop function.
   * Stores without cross-process notification return undefined: the relay polls.
   */
  listen?(wake: () => void, onError: (error: unknown) => void): Promise<() => Promise<void>>;
  /**
   * Optional: reads (does not claim) up to `limit` log rows after `afterSeq`, the last row of the
   * batch in flight, and keeps them for the next claim, which uses them instead of reading again
   * when the batch was sent whole and nothing waits for a retry. The relay calls it while a full
   * batch is out, so a draining backlog's reads overlap the broker's round trip.
   */
  readAhead?(afterSeq: number, limit: number): readonly ClaimedRow[];
  /** Registers an in-process listener called after each enqueue. Returns an unsubscribe function. */
  onEnqueue(listener: () => void): () => void;
}

export type EventOrEvents = DomainEvent | readonly DomainEvent[];
