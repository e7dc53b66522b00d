// The SQLite store (better-sqlite3 v12, the embedded default). The app passes its own Database; this
// file never imports the driver, so `import "@kaireon/events-outbox"` works without it installed.
//
// Layout (schema v2): the outbox is an append-only log plus a cursor. `enqueue` is one INSERT into a
// table with no secondary index — the only cost the app's transaction pays. The relay reads rows
// after the cursor in `seq` order and, per batch, advances the cursor in one small write: a sent row
// is never updated or indexed again. The rare rows that must wait (a failed send, and the later rows
// of its key) move to a side table `<table>_retry` with their attempts, due time and last error;
// dead letters stay there. Fewer writes per event also means the relay, in another thread or
// process, rarely invalidates the app connection's page cache.
//
// better-sqlite3 is synchronous: `db.transaction(fn)` runs start to commit without yielding, so a
// relay on the same connection can never see or join a caller's open transaction. SQLite has one
// writer, so rows commit in `seq` order and the cursor never skips a row committed later. One relay
// per database file: a second one would send the same rows.

import { checkTableName, EnqueueListeners, toRows } from "./outbox-rows.js";
import type { Claim, ClaimedRow, EventOrEvents, OutboxStats, OutboxStore, RowOutcome } from "./outbox-store.js";

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

interface LogRow {
  seq: number;
  event_id: string;
  partition_key: string;
  payload: string;
}

interface RetryScanRow {
  seq: number;
  partition_key: string;
}

interface RetryPayloadRow {
  seq: number;
  event_id: string;
  partition_key: string;
  payload: string;
  attempts: number;
}

const SCHEMA_VERSION = 2;
// In the retry table only the first pending row of each key (its head) carries a real due time; the
// rows queued behind it carry this, so "what is due" and "when is the next one due" are index lookups
// however large the table grows in an outage.
const QUEUED = 9e15;
// Rows read per scan of the log or the retry table, and the most one claim looks at.
const MAX_WINDOW = 2000;

function insertSql(t: string): string {
  return `INSERT INTO ${t} (event_id, topic, partition_key, payload, created_at) VALUES (?, ?, ?, ?, ?)`;
}

function migrations(t: string): string[] {
  return [
    // v1 (0.x): one table, a status per row and partial indexes; kept so older files upgrade in order.
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
    // v2: the append-only log, the relay's cursor, the retry table, and a view with every row's state.
    // v1 rows move over: sent and dead ones first (behind the cursor; dead ones also into the retry
    // table), then pending ones in their order, to be sent again from the first attempt.
    `ALTER TABLE ${t} RENAME TO ${t}_v1;
     CREATE TABLE ${t} (
       seq INTEGER PRIMARY KEY,
       event_id TEXT NOT NULL,
       topic TEXT NOT NULL,
       partition_key TEXT NOT NULL,
       payload TEXT NOT NULL,
       created_at INTEGER NOT NULL
     );
     CREATE TABLE ${t}_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), relayed_seq INTEGER NOT NULL);
     CREATE TABLE ${t}_retry (
       seq INTEGER PRIMARY KEY,
       event_id TEXT NOT NULL,
       topic TEXT NOT NULL,
       partition_key TEXT NOT NULL,
       payload TEXT NOT NULL,
       status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
       attempts INTEGER NOT NULL,
       next_attempt_at INTEGER NOT NULL,
       last_error TEXT,
       created_at INTEGER NOT NULL,
       updated_at INTEGER NOT NULL
     );
     CREATE INDEX ${t}_retry_due ON ${t}_retry (next_attempt_at) WHERE status = 'pending';
     CREATE INDEX ${t}_retry_key ON ${t}_retry (partition_key, seq) WHERE status = 'pending';
     CREATE INDEX ${t}_retry_event ON ${t}_retry (event_id);
     INSERT INTO ${t} (event_id, topic, partition_key, payload, created_at)
       SELECT event_id, topic, partition_key, payload, created_at FROM ${t}_v1 WHERE status <> 'pending' ORDER BY seq;
     INSERT INTO ${t}_retry (seq, event_id, topic, partition_key, payload, status, attempts, next_attempt_at, last_error, created_at, updated_at)
       SELECT n.seq, o.event_id, o.topic, o.partition_key, o.payload, 'dead', o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.updated_at
       FROM ${t}_v1 o JOIN ${t} n ON n.event_id = o.event_id WHERE o.status = 'dead';
     INSERT INTO ${t}_cursor (id, relayed_seq) VALUES (1, coalesce((SELECT max(seq) FROM ${t}), 0));
     INSERT INTO ${t} (event_id, topic, partition_key, payload, created_at)
       SELECT event_id, topic, partition_key, payload, created_at FROM ${t}_v1 WHERE status = 'pending' ORDER BY seq;
     DROP TABLE ${t}_v1;
     CREATE VIEW ${t}_rows AS
       SELECT o.seq, o.event_id, o.topic, o.partition_key, o.payload,
              coalesce(r.status, CASE WHEN o.seq <= c.relayed_seq THEN 'sent' ELSE 'pending' END) AS status,
              coalesce(r.attempts, CASE WHEN o.seq <= c.relayed_seq THEN 1 ELSE 0 END) AS attempts,
              CASE WHEN r.next_attempt_at < ${QUEUED} THEN r.next_attempt_at END AS next_attempt_at, r.last_error, o.created_at
       FROM ${t} o CROSS JOIN ${t}_cursor c LEFT JOIN ${t}_retry r ON r.seq = o.seq;`,
  ];
}

export function createSqliteOutbox(options: SqliteOutboxOptions): SqliteOutbox {
  const { db } = options;
  const t = checkTableName("createSqliteOutbox", options.table ?? "kaireon_outbox");
  const now = options.now ?? Date.now;
  const listeners = new EnqueueListeners();
  let wakeScheduled = false;
  let claimOpen = false;
  let statements: ReturnType<typeof prepare> | undefined;

  function prepare() {
    const retryColumns =
      "seq, event_id, topic, partition_key, payload, status, attempts, next_attempt_at, last_error, created_at, updated_at";
    return {
      insert: db.prepare(insertSql(t)),
      cursor: db.prepare(`SELECT relayed_seq AS seq FROM ${t}_cursor WHERE id = 1`),
      maxSeq: db.prepare(`SELECT max(seq) AS seq FROM ${t}`),
      setCursor: db.prepare(`UPDATE ${t}_cursor SET relayed_seq = max(relayed_seq, ?) WHERE id = 1`),
      resetCursor: db.prepare(`UPDATE ${t}_cursor SET relayed_seq = ? WHERE id = 1`),
      log: db.prepare(`SELECT seq, event_id, partition_key, payload FROM ${t} WHERE seq > ? ORDER BY seq LIMIT ?`),
      anyAfter: db.prepare(`SELECT EXISTS (SELECT 1 FROM ${t} WHERE seq > ?) AS yes`),
      anyRetry: db.prepare(`SELECT EXISTS (SELECT 1 FROM ${t}_retry WHERE status = 'pending') AS yes`),
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
      retryAgain: db.prepare(
        `UPDATE ${t}_retry SET attempts = ?, next_attempt_at = ${QUEUED}, last_error = ?, updated_at = ? WHERE seq = ?`,
      ),
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

  function stmts() {
    statements ??= prepare();
    return statements;
  }

  /** The relay's position; rows at or before it were sent or moved to the retry table. */
  function readCursor(): number {
    const s = stmts();
    const cursor = (s.cursor.get() as { seq: number } | undefined)?.seq ?? 0;
    // Rows deleted by hand past the cursor would let new rows reuse lower seqs: follow them down.
    const max = (s.maxSeq.get() as { seq: number | null }).seq ?? 0;
    if (max < cursor) {
      s.resetCursor.run(max);
      return max;
    }
    return cursor;
  }

  const waiting = (): boolean => (stmts().anyRetry.get() as { yes: number }).yes === 1;

  /** Retry-table rows to send now: due heads (one per key), then the rows queued behind them. */
  function claimRetries(limit: number, at: number): RetryScanRow[] {
    const s = stmts();
    const heads = s.dueHeads.all(at, limit) as RetryScanRow[];
    const picked = [...heads];
    for (const head of heads) {
      if (picked.length >= limit) break;
      picked.push(...(s.behind.all(head.partition_key, head.seq, limit - picked.length) as RetryScanRow[]));
    }
    return picked;
  }

  /** After the retry rows of `keys` changed: each key's first pending row becomes its head, due at `due(seq)`. */
  function promoteHeads(keys: Iterable<string>, due: (seq: number) => number): void {
    const s = stmts();
    for (const key of keys) {
      const head = s.headOf.get(key) as { seq: number } | undefined;
      if (head) s.promote.run(due(head.seq), head.seq);
    }
  }

  const outbox: SqliteOutbox = {
    kind: "sqlite",
    db,

    async migrate() {
      db.exec(`CREATE TABLE IF NOT EXISTS ${t}_schema (version INTEGER NOT NULL)`);
      // BEGIN IMMEDIATE: the migration reads the version and then writes. In a deferred transaction a
      // second process migrating the same fresh file at once could not upgrade its read lock, and
      // SQLite fails that with "database is locked" at once (no busy wait, to avoid a deadlock);
      // taking the write lock first makes the second opener wait on busy_timeout instead.
      const upgrade = db.transaction(() => {
        const row = db.prepare(`SELECT max(version) AS v FROM ${t}_schema`).get() as { v: number | null };
        const current = row.v ?? 0;
        const steps = migrations(t);
        for (let v = current; v < Math.min(SCHEMA_VERSION, steps.length); v++) {
          db.exec(steps[v] as string);
          db.prepare(`INSERT INTO ${t}_schema (version) VALUES (?)`).run(v + 1);
        }
      });
      // Inside the caller's transaction better-sqlite3 runs it as a savepoint, which has no lock mode.
      if (upgrade.immediate && !db.inTransaction) upgrade.immediate();
      else upgrade();
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

    async claim(limit) {
      // A caller that opened a transaction by hand (BEGIN … await … COMMIT) shares this connection:
      // claiming now would read its uncommitted rows. Wait for it to finish. One claim at a time.
      if (db.inTransaction || claimOpen) return emptyClaim;
      const s = stmts();
      const at = now();
      const anyWaiting = waiting();
      const retries = anyWaiting ? claimRetries(limit, at) : [];
      // Keys with a row in the retry table: their log rows queue behind it.
      const waits = new Map<string, boolean>();
      const keyWaits = (key: string) => {
        let yes = waits.get(key);
        if (yes === undefined) {
          yes = (s.keyWaits.get(key) as { yes: number }).yes === 1;
          waits.set(key, yes);
        }
        return yes;
      };
      const from = readCursor();
      // The log after the cursor, in order. Rows of a key that waits in the retry table join it (in
      // order) instead of being sent; they are recorded at complete(), with the cursor. When a whole
      // window is such rows, they are moved at once so the claim can look further.
      let cursor = from;
      const keyOf = new Map<number, string>(retries.map((r) => [r.seq, r.partition_key]));
      const picked: LogRow[] = [];
      const deferred: number[] = [];
      for (let scanned = 0; retries.length + picked.length < limit && scanned < Math.max(limit * 2, 1000); ) {
        const scan = s.log.all(cursor, Math.min(limit - retries.length - picked.length, MAX_WINDOW)) as LogRow[];
        if (scan.length === 0) break;
        scanned += scan.length;
        for (const row of scan) {
          keyOf.set(row.seq, row.partition_key);
          if (anyWaiting && keyWaits(row.partition_key)) deferred.push(row.seq);
          else picked.push(row);
        }
        cursor = (scan[scan.length - 1] as LogRow).seq;
        if (picked.length === 0 && retries.length === 0) {
          db.transaction(() => {
            for (const seq of deferred) s.park.run("pending", 0, null, at, seq);
            s.setCursor.run(cursor);
          })();
          deferred.length = 0;
        }
      }
      if (retries.length + picked.length === 0) return emptyClaim;

      const retryRows = retries.length
        ? (s.retryPayloads.all(JSON.stringify(retries.map((r) => r.seq))) as RetryPayloadRow[]).map(
            (r): ClaimedRow => ({
              seq: r.seq,
              eventId: r.event_id,
              partitionKey: r.partition_key,
              payload: r.payload,
              attempts: r.attempts,
            }),
          )
        : [];
      const retrySeqs = new Set(retryRows.map((r) => r.seq));
      const rows: ClaimedRow[] = retryRows.concat(
        picked.map((r) => ({ seq: r.seq, eventId: r.event_id, partitionKey: r.partition_key, payload: r.payload, attempts: 0 })),
      );
      const deferredSet = new Set(deferred);
      claimOpen = true;
      let settled = false;
      const settle = () => {
        settled = true;
        claimOpen = false;
      };

      return {
        rows,
        async complete(outcomes) {
          if (settled) return;
          const bySeq = new Map<number, RowOutcome>(outcomes.map((o) => [o.seq, o]));
          const done = now();
          try {
            db.transaction(() => {
              const sentRetries: number[] = [];
              // Keys whose retry rows changed, and the due time of each row scheduled for a retry.
              const touched = new Set<string>();
              const dueOf = new Map<number, number>();
              for (const seq of retrySeqs) {
                const o = bySeq.get(seq);
                if (!o) continue;
                touched.add(keyOf.get(seq) as string);
                if (o.status === "sent") sentRetries.push(seq);
                else if (o.status === "retry") {
                  s.retryAgain.run(o.attempts, o.error, done, seq);
                  dueOf.set(seq, done + o.delayMs);
                } else s.retryDead.run(o.attempts, o.error, done, seq);
              }
              if (sentRetries.length > 0) s.retrySent.run(done, JSON.stringify(sentRetries));
              // Walk the log range this claim covered, in order; stop at a row without an outcome
              // (it and everything after it stay after the cursor, to be claimed again).
              let reached = from;
              const log = [...picked.map((r) => r.seq), ...deferredSet].sort((a, b) => a - b);
              for (const seq of log) {
                if (deferredSet.has(seq)) s.park.run("pending", 0, null, done, seq);
                else {
                  const o = bySeq.get(seq);
                  if (!o) break;
                  if (o.status === "retry") {
                    s.park.run("pending", o.attempts, o.error, done, seq);
                    dueOf.set(seq, done + o.delayMs);
                    touched.add(keyOf.get(seq) as string);
                  } else if (o.status === "dead") s.park.run("dead", o.attempts, o.error, done, seq);
                }
                reached = seq;
              }
              promoteHeads(touched, (seq) => dueOf.get(seq) ?? done);
              if (reached > from) s.setCursor.run(reached);
            })();
          } finally {
            settle();
          }
        },
        async abandon() {
          settle();
        },
      } satisfies Claim;
    },

    async nextDueInMs() {
      const s = stmts();
      if ((s.anyAfter.get(readCursor()) as { yes: number }).yes === 1) return 0;
      const row = s.nextRetryDue.get() as { due: number | null };
      return row.due === null ? undefined : Math.max(0, row.due - now());
    },

    async pruneSent(olderThanMs, limit) {
      const s = stmts();
      const cutoff = now() - olderThanMs;
      // The oldest sent rows first, up to the first one still inside the retention; the row at the
      // cursor stays so seqs keep growing past it. The range delete below keeps the rows it steps over.
      const scan = s.pruneScan.all(readCursor(), limit) as { seq: number; created_at: number }[];
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
      const cursor = readCursor();
      const row = stmts().stats.get(cursor, cursor) as { backlog: number; oldest: number; dead: number };
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
        promoteHeads(keys, () => at);
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
