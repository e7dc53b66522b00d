// The SQL of the SQLite outbox, prepared once per connection (and again after a migration), and the
// part of better-sqlite3 it needs. Structural types, so the driver's own types stay optional.

import { insertSql, QUEUED } from "./sqlite-outbox-schema.js";

/** The part of a better-sqlite3 Database the outbox uses (structural, so the driver's types stay optional). */
export interface SqliteDatabaseLike {
  prepare(sql: string): SqliteStatementLike;
  exec(sql: string): unknown;
  /** better-sqlite3's: the returned function runs `fn` in a transaction; `.immediate()` takes the write lock first. */
  transaction(fn: () => void): { (): void; immediate?: () => void };
  readonly inTransaction: boolean;
}

export interface SqliteStatementLike {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** A row of the log as a claim reads it. */
export interface LogRow {
  seq: number;
  event_id: string;
  partition_key: string;
  payload: string;
}

/** A row of the retry table as a claim scans it (before its payload is read). */
export interface RetryScanRow {
  seq: number;
  partition_key: string;
}

export interface RetryPayloadRow {
  seq: number;
  event_id: string;
  partition_key: string;
  payload: string;
  attempts: number;
}

export type SqliteStatements = ReturnType<typeof prepareStatements>;

/** Moves the cursor forward only: a late write of an older position never takes it back. */
export const setCursorSql = (t: string) => `UPDATE ${t}_cursor SET relayed_seq = max(relayed_seq, ?) WHERE id = 1`;

export function prepareStatements(db: SqliteDatabaseLike, t: string) {
  const retryColumns =
    "seq, event_id, topic, partition_key, payload, status, attempts, next_attempt_at, last_error, created_at, updated_at";
  return {
    insert: db.prepare(insertSql(t)),
    // The cursor, the last seq of the log and whether any row waits in the retry table, in one
    // statement: a relay asks all three on every claim and every look for due rows.
    state: db.prepare(
      `SELECT (SELECT relayed_seq FROM ${t}_cursor WHERE id = 1) AS seq, (SELECT max(seq) FROM ${t}) AS max,
              EXISTS (SELECT 1 FROM ${t}_retry WHERE status = 'pending') AS retry`,
    ),
    setCursor: db.prepare(setCursorSql(t)),
    resetCursor: db.prepare(`UPDATE ${t}_cursor SET relayed_seq = ? WHERE id = 1`),
    log: db.prepare(`SELECT seq, event_id, partition_key, payload FROM ${t} WHERE seq > ? ORDER BY seq LIMIT ?`),
    keyWaits: db.prepare(`SELECT EXISTS (SELECT 1 FROM ${t}_retry WHERE status = 'pending' AND partition_key = ?) AS yes`),
    // Due heads, earliest first, then the rows queued behind one of them.
    dueHeads: db.prepare(
      `SELECT seq, partition_key FROM ${t}_retry WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?`,
    ),
    behind: db.prepare(
      `SELECT seq, partition_key FROM ${t}_retry WHERE status = 'pending' AND partition_key = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    retryPayloads: db.prepare(
      `SELECT seq, event_id, partition_key, payload, attempts FROM ${t}_retry WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq`,
    ),
    // A failed row, or a later row of a key that waits behind one; queued until made its key's head.
    park: db.prepare(
      `INSERT OR IGNORE INTO ${t}_retry (${retryColumns}) SELECT seq, event_id, topic, partition_key, payload, ?, ?, ${QUEUED}, ?, created_at, ? FROM ${t} WHERE seq = ?`,
    ),
    // Sent at last: kept (with its attempts) until its log row is pruned.
    retrySent: db.prepare(
      `UPDATE ${t}_retry SET status = 'sent', attempts = attempts + 1, updated_at = ? WHERE seq IN (SELECT value FROM json_each(?))`,
    ),
    retryAgain: db.prepare(`UPDATE ${t}_retry SET attempts = ?, next_attempt_at = ${QUEUED}, last_error = ?, updated_at = ? WHERE seq = ?`),
    retryDead: db.prepare(`UPDATE ${t}_retry SET status = 'dead', attempts = ?, last_error = ?, updated_at = ? WHERE seq = ?`),
    headOf: db.prepare(`SELECT seq FROM ${t}_retry WHERE status = 'pending' AND partition_key = ? ORDER BY seq LIMIT 1`),
    // Makes a queued row its key's head, due at the given time (a head already due keeps its time).
    promote: db.prepare(`UPDATE ${t}_retry SET next_attempt_at = ? WHERE seq = ? AND next_attempt_at = ${QUEUED}`),
    queueKey: db.prepare(`UPDATE ${t}_retry SET next_attempt_at = ${QUEUED} WHERE status = 'pending' AND partition_key = ?`),
    nextRetryDue: db.prepare(`SELECT min(next_attempt_at) AS due FROM ${t}_retry WHERE status = 'pending'`),
    // Sent rows only: dead rows, and rows waiting in the retry table, are stepped over (a probe of the
    // retry table's primary key each), so they never cap or stop a chunk.
    pruneScan: db.prepare(
      `SELECT seq, created_at FROM ${t} WHERE seq < ?
       AND NOT EXISTS (SELECT 1 FROM ${t}_retry r WHERE r.seq = ${t}.seq AND r.status <> 'sent') ORDER BY seq LIMIT ?`,
    ),
    pruneLog: db.prepare(
      `DELETE FROM ${t} WHERE seq BETWEEN ? AND ?
       AND NOT EXISTS (SELECT 1 FROM ${t}_retry r WHERE r.seq = ${t}.seq AND r.status <> 'sent')`,
    ),
    pruneRetry: db.prepare(`DELETE FROM ${t}_retry WHERE status = 'sent' AND seq BETWEEN ? AND ?`),
    stats: db.prepare(
      `SELECT (SELECT count(*) FROM ${t} WHERE seq > ?) + (SELECT count(*) FROM ${t}_retry WHERE status = 'pending') AS backlog,
              min(coalesce((SELECT created_at FROM ${t} WHERE seq > ? ORDER BY seq LIMIT 1), 9e15),
                  coalesce((SELECT min(created_at) FROM ${t}_retry WHERE status = 'pending'), 9e15)) AS oldest,
              (SELECT count(*) FROM ${t}_retry WHERE status = 'dead') AS dead`,
    ),
  };
}

/** What a claim, or a look for due rows, starts from. */
export interface OutboxState {
  /** The relay's position; rows at or before it were sent or moved to the retry table. */
  cursor: number;
  /** A log row after the cursor is waiting. */
  anyAfter: boolean;
  /** A row waits in the retry table (pending). */
  anyRetry: boolean;
}

/**
 * `sentUpTo`: rows this relay sent whose cursor the app's writer has not committed yet
 * (SqliteOutboxOptions.cursorWriter): the relay's position is the later of the two.
 */
export function readState(s: SqliteStatements, sentUpTo = 0): OutboxState {
  const row = s.state.get() as { seq: number | null; max: number | null; retry: number };
  const stored = row.seq ?? 0;
  const max = row.max ?? 0;
  const anyRetry = row.retry === 1;
  // Rows deleted by hand past the cursor would let new rows reuse lower seqs: follow them down.
  if (max < stored) {
    s.resetCursor.run(max);
    return { cursor: max, anyAfter: false, anyRetry };
  }
  const cursor = Math.min(max, Math.max(stored, sentUpTo));
  return { cursor, anyAfter: max > cursor, anyRetry };
}

/** The relay's position; rows at or before it were sent or moved to the retry table. */
export function readCursor(s: SqliteStatements, sentUpTo = 0): number {
  return readState(s, sentUpTo).cursor;
}

/** After the retry rows of `keys` changed: each key's first pending row becomes its head, due at `due(seq)`. */
export function promoteHeads(s: SqliteStatements, keys: Iterable<string>, due: (seq: number) => number): void {
  for (const key of keys) {
    const head = s.headOf.get(key) as { seq: number } | undefined;
    if (head) s.promote.run(due(head.seq), head.seq);
  }
}
