// The SQLite outbox's tables and how a file gets to the current version. Schema v2: the outbox is an
// append-only log plus a cursor. `enqueue` is one INSERT into a table with no secondary index — the
// only cost the app's transaction pays. The relay reads rows after the cursor in `seq` order and, per
// batch, advances the cursor in one small write: a sent row is never updated or indexed again. The
// rare rows that must wait (a failed send, and the later rows of its key) move to a side table
// `<table>_retry` with their attempts, due time and last error; dead letters stay there. Fewer writes
// per event also means the relay, in another thread or process, rarely invalidates the app
// connection's page cache.

import type { SqliteDatabaseLike } from "./sqlite-outbox-statements.js";

const SCHEMA_VERSION = 2;
// In the retry table only the first pending row of each key (its head) carries a real due time; the
// rows queued behind it carry this, so "what is due" and "when is the next one due" are index lookups
// however large the table grows in an outage.
export const QUEUED = 9e15;

export function insertSql(t: string): string {
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

/** Creates or upgrades table `t` to the current version; versioned, idempotent, safe from several processes. */
export function migrateSqlite(db: SqliteDatabaseLike, t: string): void {
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
}
