// The SQLite store (better-sqlite3 v12, the embedded default). The app passes its own Database; this
// package never imports the driver, so `import "@kaireon/events-outbox"` works without it installed.
// The tables and their versions: sqlite-outbox-schema.ts; the claim: sqlite-outbox-claim.ts.
//
// better-sqlite3 is synchronous: `db.transaction(fn)` runs start to commit without yielding, so a
// relay on the same connection can never see or join a caller's open transaction. SQLite has one
// writer, so rows commit in `seq` order and the cursor never skips a row committed later. One relay
// per database file: a second one would send the same rows.

import { ConfigError } from "@kaireon/events-core/backend";
import { checkTableName, EnqueueListeners, toRows } from "./outbox-rows.js";
import type { EventOrEvents, OutboxStats, OutboxStore } from "./outbox-store.js";
import { SqliteClaimer } from "./sqlite-outbox-claim.js";
import { insertSql, migrateSqlite } from "./sqlite-outbox-schema.js";
import {
  prepareStatements,
  promoteHeads,
  readCursor,
  readState,
  type SqliteDatabaseLike,
  type SqliteStatements,
  setCursorSql,
} from "./sqlite-outbox-statements.js";

export type { SqliteDatabaseLike, SqliteStatementLike } from "./sqlite-outbox-statements.js";

export interface SqliteOutboxOptions {
  /** The app's better-sqlite3 Database (the one its business transactions use). */
  db: SqliteDatabaseLike;
  /** Table name; default `kaireon_outbox`. */
  table?: string;
  /** Clock for tests. */
  now?: () => number;
  /**
   * For a relay in another process than the app (same file, its own connection), which no enqueue of
   * the app can wake: check SQLite's `PRAGMA data_version` every this many ms and wake the relay when
   * another connection has committed, so an idle relay sends a new row within about this much
   * instead of at its next poll. Each check reads a counter from shared memory (no disk I/O). Off
   * when unset; the app's own relay needs none (enqueue wakes it).
   */
  watchCommitsMs?: number;
  /**
   * For a relay with a connection of its own beside the app's writer (e.g. on a worker thread):
   * moves the relay's cursor on the app's writer instead of in a transaction of this connection. A
   * batch whose rows were all sent (the usual case) completes by calling `cursorWriter(seq)`, which
   * must commit `advanceCursor(db, seq)` on the app's connection (with its own next transaction,
   * say) and settle once that is committed, or reject. The relay does not wait for it: its next
   * claim starts after those rows at once. A rejection sends it back to the stored cursor (the rows
   * after it go out again: at least once). Until the write commits, a crash sends them again too.
   * Anything else a batch records (retries, dead rows) is still written here. Why: SQLite has one writer at a time, and a second connection that finds the write lock
   * taken waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25 ms… on the thread that
   * called it — a stall for the app's requests, or for every event behind the relay's batch.
   */
  cursorWriter?: (seq: number) => Promise<void>;
}

export interface SqliteOutbox extends OutboxStore {
  readonly kind: "sqlite";
  readonly db: SqliteDatabaseLike;
  /**
   * Writes the events into the outbox. Call it inside your own `db.transaction(...)` so the rows
   * commit or roll back with your business rows. Validates first: an invalid event throws
   * ValidationError and your transaction rolls back.
   */
  enqueue(db: SqliteDatabaseLike, events: EventOrEvents): void;
  /** Wakes the relays of this process now (enqueue does it for you once your transaction is done). */
  notify(): void;
  /**
   * Moves the relay's cursor to `seq` (never back) in your transaction: what a relay's
   * `cursorWriter` asks of the app's connection. `seq` comes from that relay; nothing else should
   * move the cursor, which skips the rows at or before it.
   */
  advanceCursor(db: SqliteDatabaseLike, seq: number): void;
}

export function createSqliteOutbox(options: SqliteOutboxOptions): SqliteOutbox {
  const { db } = options;
  const t = checkTableName("createSqliteOutbox", options.table ?? "kaireon_outbox");
  const now = options.now ?? Date.now;
  const listeners = new EnqueueListeners();
  let wakeScheduled = false;
  // Prepared on first use, and again after a migration changed the tables.
  let statements: SqliteStatements | undefined;
  const stmts = () => {
    statements ??= prepareStatements(db, t);
    return statements;
  };
  const claimer = new SqliteClaimer(db, stmts, now, options.cursorWriter);
  const watchMs = options.watchCommitsMs;
  if (watchMs !== undefined && (!Number.isInteger(watchMs) || watchMs < 1)) {
    throw new ConfigError({
      backend: "outbox",
      message: `[outbox] createSqliteOutbox option "watchCommitsMs" is ${watchMs} — use a whole number of milliseconds ≥ 1, or leave it unset`,
    });
  }

  return {
    kind: "sqlite",
    db,

    async migrate() {
      migrateSqlite(db, t);
      statements = undefined;
    },

    enqueue(tx, events) {
      const rows = toRows(events);
      // Usually the relay's own Database; another connection to the same file works too.
      const insert = tx === db ? stmts().insert : tx.prepare(insertSql(t));
      const at = now();
      for (const r of rows) insert.run(r.eventId, r.topic, r.partitionKey, r.payload, at);
      // Wake relays once the caller's synchronous transaction is over (committed or rolled back).
      if (!wakeScheduled) {
        wakeScheduled = true;
        setImmediate(() => {
          wakeScheduled = false;
          listeners.emit();
        });
      }
    },

    notify() {
      listeners.emit();
    },

    advanceCursor(tx, seq) {
      if (!Number.isSafeInteger(seq) || seq < 0) {
        throw new ConfigError({
          backend: "outbox",
          message: `[outbox] advanceCursor was given seq ${seq} — pass the whole number a relay's cursorWriter was called with`,
        });
      }
      (tx === db ? stmts().setCursor : tx.prepare(setCursorSql(t))).run(seq);
    },

    async claim(limit) {
      return claimer.claim(limit);
    },

    readAhead(afterSeq, limit) {
      return claimer
        .readAhead(afterSeq, limit)
        .map((r) => ({ seq: r.seq, eventId: r.event_id, partitionKey: r.partition_key, payload: r.payload, attempts: 0 }));
    },

    async nextDueInMs() {
      const s = stmts();
      const state = readState(s, claimer.sentUpTo);
      if (state.anyAfter) return 0;
      if (!state.anyRetry) return undefined;
      const row = s.nextRetryDue.get() as { due: number | null };
      return row.due === null ? undefined : Math.max(0, row.due - now());
    },

    async pruneSent(olderThanMs, limit) {
      const s = stmts();
      const cutoff = now() - olderThanMs;
      // The oldest sent rows first, up to the first one still inside the retention; the row at the
      // cursor stays so seqs keep growing past it. The range delete below keeps the rows it steps over.
      const scan = s.pruneScan.all(readCursor(s, claimer.sentUpTo), limit) as { seq: number; created_at: number }[];
      let last: number | undefined;
      for (const r of scan) {
        if (r.created_at >= cutoff) break;
        last = r.seq;
      }
      if (last === undefined) return 0;
      const first = (scan[0] as { seq: number }).seq;
      let pruned = 0;
      db.transaction(() => {
        pruned = s.pruneLog.run(first, last).changes;
        s.pruneRetry.run(first, last);
      })();
      return pruned;
    },

    async stats(): Promise<OutboxStats> {
      const s = stmts();
      const cursor = readCursor(s, claimer.sentUpTo);
      const row = s.stats.get(cursor, cursor) as { backlog: number; oldest: number; dead: number };
      return {
        backlog: row.backlog,
        deadRows: row.dead,
        oldestPendingAgeMs: row.backlog === 0 ? 0 : Math.max(0, now() - row.oldest),
      };
    },

    async requeueDead(eventIds) {
      const at = now();
      const s = stmts();
      const where = eventIds === undefined ? "" : " AND event_id IN (SELECT value FROM json_each(?))";
      const args = eventIds === undefined ? [] : [JSON.stringify(eventIds)];
      let changed = 0;
      db.transaction(() => {
        const keys = (
          db.prepare(`SELECT DISTINCT partition_key AS key FROM ${t}_retry WHERE status = 'dead'${where}`).all(...args) as { key: string }[]
        ).map((r) => r.key);
        changed = db
          .prepare(`UPDATE ${t}_retry SET status = 'pending', attempts = 0, updated_at = ? WHERE status = 'dead'${where}`)
          .run(at, ...args).changes;
        // A requeued row is usually older than the rows its key has waiting: queue the key again
        // behind its first pending row, which is due now.
        for (const key of keys) s.queueKey.run(key);
        promoteHeads(s, keys, () => at);
      })();
      return changed;
    },

    onEnqueue(listener) {
      return listeners.add(listener);
    },

    ...(watchMs === undefined
      ? {}
      : {
          async listen(wake: () => void, onError: (error: unknown) => void) {
            const version = db.prepare("PRAGMA data_version");
            const read = () => (version.get() as { data_version: number }).data_version;
            let last = read();
            let failing = false;
            const timer = setInterval(() => {
              try {
                const current = read();
                failing = false;
                if (current !== last) {
                  last = current;
                  wake();
                }
              } catch (error) {
                // Closing, or busy: the relay's poll still runs; say so once, not every tick.
                if (!failing) onError(error);
                failing = true;
              }
            }, watchMs);
            timer.unref();
            return async () => clearInterval(timer);
          },
        }),
  };
}
