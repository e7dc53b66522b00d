// The SQLite store (better-sqlite3 v12, the embedded default). The app passes its own Database; this
// file never imports the driver, so `import "@kaireon/events-outbox"` works without it installed.
// better-sqlite3 is synchronous: `db.transaction(fn)` runs start to commit without yielding, so the
// relay (same connection, same event loop) can never see or join a caller's open transaction. One
// relay per database file: SQLite has a single writer, so a second relay adds nothing.

import { checkTableName, EnqueueListeners, toRows } from "./outbox-rows.js";
import { selectSendable } from "./outbox-select.js";
import type { Claim, ClaimedRow, EventOrEvents, OutboxStats, OutboxStore, RowOutcome } from "./outbox-store.js";

/** The part of a better-sqlite3 Database the outbox uses (structural, so the driver's types stay optional). */
export interface SqliteDatabaseLike {
  prepare(sql: string): SqliteStatementLike;
  exec(sql: string): unknown;
  transaction(fn: () => void): () => void;
  readonly inTransaction: boolean;
}

export interface SqliteStatementLike {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface SqliteOutboxOptions {
  /** The app's better-sqlite3 Database (the one its business transactions use). */
  db: SqliteDatabaseLike;
  /** Table name; default `kaireon_outbox`. */
  table?: string;
  /** Clock for tests. */
  now?: () => number;
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
}

interface ScanRow {
  seq: number;
  partition_key: string;
  next_attempt_at: number;
}

interface PayloadRow {
  seq: number;
  event_id: string;
  payload: string;
  attempts: number;
}

const SCHEMA_VERSION = 1;

function insertSql(t: string): string {
  return `INSERT INTO ${t} (event_id, topic, partition_key, payload, status, attempts, next_attempt_at, created_at, updated_at)
          VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)`;
}

function migrations(t: string): string[] {
  return [
    // v1: the outbox table. Times are epoch milliseconds; seq is the insertion order.
    `CREATE TABLE IF NOT EXISTS ${t} (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       event_id TEXT NOT NULL UNIQUE,
       topic TEXT NOT NULL,
       partition_key TEXT NOT NULL,
       payload TEXT NOT NULL,
       status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
       attempts INTEGER NOT NULL DEFAULT 0,
       next_attempt_at INTEGER NOT NULL,
       last_error TEXT,
       created_at INTEGER NOT NULL,
       updated_at INTEGER NOT NULL,
       sent_at INTEGER
     );
     CREATE INDEX IF NOT EXISTS ${t}_pending ON ${t} (seq) WHERE status = 'pending';
     CREATE INDEX IF NOT EXISTS ${t}_due ON ${t} (next_attempt_at) WHERE status = 'pending';
     CREATE INDEX IF NOT EXISTS ${t}_sent ON ${t} (sent_at) WHERE status = 'sent';`,
  ];
}

export function createSqliteOutbox(options: SqliteOutboxOptions): SqliteOutbox {
  const { db } = options;
  const t = checkTableName("createSqliteOutbox", options.table ?? "kaireon_outbox");
  const now = options.now ?? Date.now;
  const listeners = new EnqueueListeners();
  let wakeScheduled = false;
  let statements: ReturnType<typeof prepare> | undefined;

  function prepare() {
    return {
      insert: db.prepare(insertSql(t)),
      // The scan reads no payload: rows of blocked keys are skipped without building their JSON strings.
      scan: db.prepare(
        `SELECT seq, partition_key, next_attempt_at FROM ${t}
         WHERE status = 'pending' AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      payloads: db.prepare(`SELECT seq, event_id, payload, attempts FROM ${t} WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq`),
      // One statement for the whole batch (the common case): the seqs as a JSON array.
      sent: db.prepare(
        `UPDATE ${t} SET status = 'sent', sent_at = ?, updated_at = ?, attempts = attempts + 1
         WHERE seq IN (SELECT value FROM json_each(?))`,
      ),
      retry: db.prepare(`UPDATE ${t} SET attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE seq = ?`),
      dead: db.prepare(`UPDATE ${t} SET status = 'dead', attempts = ?, last_error = ?, updated_at = ? WHERE seq = ?`),
      nextDue: db.prepare(`SELECT min(next_attempt_at) AS due FROM ${t} WHERE status = 'pending'`),
      prune: db.prepare(`DELETE FROM ${t} WHERE seq IN (SELECT seq FROM ${t} WHERE status = 'sent' AND sent_at < ? LIMIT ?)`),
      stats: db.prepare(
        `SELECT (SELECT count(*) FROM ${t} WHERE status = 'pending') AS backlog,
                (SELECT min(created_at) FROM ${t} WHERE status = 'pending') AS oldest,
                (SELECT count(*) FROM ${t} WHERE status = 'dead') AS dead`,
      ),
    };
  }

  function stmts() {
    statements ??= prepare();
    return statements;
  }

  const complete = (outcomes: readonly RowOutcome[]) => {
    const s = stmts();
    const at = now();
    const sent: number[] = [];
    db.transaction(() => {
      for (const o of outcomes) {
        if (o.status === "sent") sent.push(o.seq);
        else if (o.status === "retry") s.retry.run(o.attempts, at + o.delayMs, o.error, at, o.seq);
        else s.dead.run(o.attempts, o.error, at, o.seq);
      }
      if (sent.length > 0) s.sent.run(at, at, JSON.stringify(sent));
    })();
  };

  const outbox: SqliteOutbox = {
    kind: "sqlite",
    db,

    async migrate() {
      db.exec(`CREATE TABLE IF NOT EXISTS ${t}_schema (version INTEGER NOT NULL)`);
      db.transaction(() => {
        const row = db.prepare(`SELECT max(version) AS v FROM ${t}_schema`).get() as { v: number | null };
        const current = row.v ?? 0;
        const steps = migrations(t);
        for (let v = current; v < Math.min(SCHEMA_VERSION, steps.length); v++) {
          db.exec(steps[v] as string);
          db.prepare(`INSERT INTO ${t}_schema (version) VALUES (?)`).run(v + 1);
        }
      })();
      statements = undefined;
    },

    enqueue(tx, events) {
      const rows = toRows(events);
      // Usually the relay's own Database; another connection to the same file works too.
      const insert = tx === db ? stmts().insert : tx.prepare(insertSql(t));
      const at = now();
      for (const r of rows) insert.run(r.eventId, r.topic, r.partitionKey, r.payload, at, at, at);
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

    async claim(limit) {
      // A caller that opened a transaction by hand (BEGIN … await … COMMIT) shares this connection:
      // claiming now would read its uncommitted rows. Wait for it to finish.
      if (db.inTransaction) return emptyClaim;
      const s = stmts();
      const at = now();
      const blocked = new Set<string>();
      const picked: ScanRow[] = [];
      // Scan windows of pending rows in order until the batch is full; keys blocked by a row waiting
      // for retry stay blocked across windows. Bounded so a huge blocked backlog cannot stall a tick.
      const window = Math.min(Math.max(limit, 32), 2000);
      const maxScan = Math.max(limit * 8, 4096);
      let after = 0;
      for (let scanned = 0; picked.length < limit && scanned < maxScan; ) {
        const scan = s.scan.all(after, window) as ScanRow[];
        if (scan.length === 0) break;
        scanned += scan.length;
        const ready = scan.map((r) => ({ partitionKey: r.partition_key, ready: r.next_attempt_at <= at }));
        for (const i of selectSendable(ready, limit - picked.length, blocked)) picked.push(scan[i] as ScanRow);
        if (scan.length < window) break;
        after = (scan[scan.length - 1] as ScanRow).seq;
      }
      if (picked.length === 0) return emptyClaim;
      // Same synchronous call as the scan: nothing can change these rows in between.
      const loaded = s.payloads.all(JSON.stringify(picked.map((r) => r.seq))) as PayloadRow[];
      const rows: ClaimedRow[] = loaded.map((r, i) => ({
        seq: r.seq,
        eventId: r.event_id,
        partitionKey: (picked[i] as ScanRow).partition_key,
        payload: r.payload,
        attempts: r.attempts,
      }));
      return {
        rows,
        complete: async (outcomes) => complete(outcomes),
        abandon: async () => {},
      } satisfies Claim;
    },

    async nextDueInMs() {
      const row = stmts().nextDue.get() as { due: number | null };
      return row.due === null ? undefined : Math.max(0, row.due - now());
    },

    async pruneSent(olderThanMs, limit) {
      return stmts().prune.run(now() - olderThanMs, limit).changes;
    },

    async stats(): Promise<OutboxStats> {
      const row = stmts().stats.get() as { backlog: number; oldest: number | null; dead: number };
      return { backlog: row.backlog, deadRows: row.dead, oldestPendingAgeMs: row.oldest === null ? 0 : Math.max(0, now() - row.oldest) };
    },

    async requeueDead(eventIds) {
      const at = now();
      if (eventIds === undefined) {
        return db
          .prepare(`UPDATE ${t} SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE status = 'dead'`)
          .run(at, at).changes;
      }
      const update = db.prepare(
        `UPDATE ${t} SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE status = 'dead' AND event_id = ?`,
      );
      let changed = 0;
      db.transaction(() => {
        for (const id of eventIds) changed += update.run(at, at, id).changes;
      })();
      return changed;
    },

    onEnqueue(listener) {
      return listeners.add(listener);
    },
  };
  return outbox;
}

const emptyClaim: Claim = { rows: [], complete: async () => {}, abandon: async () => {} };
