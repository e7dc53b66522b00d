// The embedded default store: one SQLite file under the data folder, created on first start.
// better-sqlite3 is synchronous, so a transaction is one uninterrupted block of the event loop:
// the row and its outbox entry (the outbox's own enqueue, on the same connection) commit together
// or not at all.

import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { DomainEvent } from "@kaireon/events-core";
import type { SqliteOutbox } from "@kaireon/events-outbox";
import Database from "better-sqlite3";
import type { BehaviourEventRow, DecisionRow, DemoStore, InteractionRow, RelayCursorSource, StoreCounts } from "./store.js";
import { interactionFromRow } from "./store-rows.js";

export type SqliteDatabase = Database.Database;

const schema = `
CREATE TABLE IF NOT EXISTS interaction_history (
  interaction_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  offer_id TEXT NOT NULL,
  creative_id TEXT,
  channel_id TEXT NOT NULL,
  interaction_type TEXT NOT NULL,
  outcome_type_key TEXT NOT NULL,
  campaign_id TEXT,
  recommendation_id TEXT,
  occurred_at TEXT NOT NULL,
  event_id TEXT
);
CREATE INDEX IF NOT EXISTS interaction_history_customer ON interaction_history (tenant_id, customer_id);
CREATE TABLE IF NOT EXISTS decisions (
  recommendation_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  decision_flow_key TEXT NOT NULL,
  offers_returned INTEGER NOT NULL,
  top_offer_id TEXT,
  top_propensity REAL,
  offers_json TEXT NOT NULL,
  decided_at TEXT NOT NULL,
  event_id TEXT
);
CREATE TABLE IF NOT EXISTS customer_events (
  event_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  properties_json TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  received_at TEXT NOT NULL
);
`;

/** The demo's SQLite file in `dataDir` (":memory:" stays in memory). */
export function sqliteFile(dataDir: string): string {
  return dataDir === ":memory:" ? ":memory:" : join(dataDir, "demo.sqlite");
}

/** Creates the data folder and the file on first start, in WAL mode: the server's (and relay-main's) opening. */
export function openSqlite(dataDir: string): { db: SqliteDatabase; file: string } {
  const file = sqliteFile(dataDir);
  if (file === ":memory:") return { db: new Database(":memory:"), file };
  return { db: connectSqlite(file, { create: true }), file };
}

/**
 * A connection to the demo's file with the busy handler and the sync mode, which are per
 * connection. `create` also makes the folder and the file and switches it to WAL (a setting of the
 * file, kept by it); without, the file must exist (a relay thread: the server made it).
 */
export function connectSqlite(file: string, { create = false } = {}): SqliteDatabase {
  if (create) mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { fileMustExist: !create });
  try {
    // The busy handler first: the server and relay-main open one file together at start-up, and
    // without it the second opener's first statement fails at once with "database is locked".
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // WAL: readers (the relay) never block the writer (the routes); NORMAL sync is durable at each checkpoint.
    if (create) switchToWal(db);
    db.pragma("synchronous = NORMAL");
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** How long a statement waits for another connection's lock before it fails (SQLITE_BUSY). */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Switching a fresh file to WAL needs an exclusive lock, and SQLite does not always run the busy
 * handler for it (a connection that holds a shared lock while it waits could deadlock the other):
 * the pragma can still fail with SQLITE_BUSY, or leave the old mode. Try again for up to the busy
 * timeout; another opener that won the race leaves the file in WAL already, which is what we want.
 */
function switchToWal(db: SqliteDatabase): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 1; ; attempt++) {
    try {
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (String(mode).toLowerCase() === "wal") return;
      if (Date.now() >= deadline) throw new Error(`[demo] SQLite stayed in journal mode ${String(mode)}; WAL was asked for`);
    } catch (error) {
      if ((error as { code?: string }).code !== "SQLITE_BUSY" || Date.now() >= deadline) throw error;
    }
    // A synchronous pause (start-up only, before the server listens): 5, 10, … 50 ms.
    Atomics.wait(pause, 0, 0, Math.min(50, 5 * attempt));
  }
}

/** The store on `db`; each event goes into `outbox` (an outbox on this same connection) in the row's transaction. */
export function createSqliteStore(db: SqliteDatabase, file: string, outbox: SqliteOutbox): DemoStore {
  db.exec(schema);

  const insertInteraction = db.prepare(
    `INSERT INTO interaction_history (interaction_id, tenant_id, customer_id, offer_id, creative_id, channel_id, interaction_type,
       outcome_type_key, campaign_id, recommendation_id, occurred_at, event_id)
     VALUES (@interactionId, @tenantId, @customerId, @offerId, @creativeId, @channelId, @interactionType,
       @outcomeTypeKey, @campaignId, @recommendationId, @timestamp, @eventId)`,
  );
  const insertDecision = db.prepare(
    `INSERT INTO decisions (recommendation_id, tenant_id, customer_id, decision_flow_key, offers_returned, top_offer_id,
       top_propensity, offers_json, decided_at, event_id)
     VALUES (@recommendationId, @tenantId, @customerId, @decisionFlowKey, @offersReturned, @topOfferId,
       @topPropensity, @offersJson, @timestamp, @eventId)`,
  );
  const insertBehaviour = db.prepare(
    `INSERT INTO customer_events (event_id, tenant_id, customer_id, event_type, properties_json, occurred_at, received_at)
     VALUES (@eventId, @tenantId, @customerId, @eventType, @propertiesJson, @occurredAt, @receivedAt)`,
  );
  const selectInteraction = db.prepare("SELECT * FROM interaction_history WHERE interaction_id = ?");

  const recordInteraction = db.transaction((row: InteractionRow, event: DomainEvent | null) => {
    insertInteraction.run(row);
    if (event) outbox.enqueue(db, event);
  });
  const recordDecision = db.transaction((row: DecisionRow, event: DomainEvent | null) => {
    insertDecision.run({ ...row, offersJson: JSON.stringify(row.offers) });
    if (event) outbox.enqueue(db, event);
  });
  const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

  // Group commit: the writes that arrive in one turn of the event loop share one COMMIT (one WAL
  // append of the pages they dirty). Each write runs in its own SAVEPOINT — better-sqlite3 nests
  // transactions that way — so a failing write rolls back only itself, row and outbox entry together,
  // and every request still answers only after its own data is committed.
  interface QueuedWrite {
    write: () => void;
    resolve: () => void;
    reject: (error: unknown) => void;
    error?: unknown;
  }
  let queue: QueuedWrite[] = [];
  // A relay thread's cursor rides along with whatever commit comes next (followRelayCursor).
  let relayCursor: RelayCursorSource | undefined;
  const commitBatch = db.transaction((batch: QueuedWrite[]): number | undefined => {
    for (const item of batch) {
      try {
        item.write();
      } catch (error) {
        item.error = error ?? new Error("write failed");
      }
    }
    const seq = relayCursor?.pending();
    if (seq === undefined) return undefined;
    try {
      outbox.advanceCursor(db, seq);
      return seq;
    } catch {
      // The relay thread asks again (its own message) if no later commit takes it.
      return undefined;
    }
  });
  const flush = () => {
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    try {
      const seq = commitBatch(batch);
      if (seq !== undefined) relayCursor?.committed(seq);
    } catch (error) {
      for (const item of batch) item.error ??= error;
    }
    for (const item of batch) item.error === undefined ? item.resolve() : item.reject(item.error);
  };
  const enqueueWrite = (write: () => void) =>
    new Promise<void>((resolve, reject) => {
      if (queue.push({ write, resolve, reject }) === 1) setImmediate(flush);
    });

  let closed = false;
  return {
    kind: "sqlite",
    location: file,
    async recordInteraction(input, event) {
      const row: InteractionRow = { ...input, eventId: event?.id ?? null };
      await enqueueWrite(() => recordInteraction(row, event));
      return row;
    },
    async recordDecision(input, event) {
      const row: DecisionRow = { ...input, eventId: event?.id ?? null };
      await enqueueWrite(() => recordDecision(row, event));
      return row;
    },
    async recordBehaviourEvent(input) {
      const row: BehaviourEventRow = { ...input };
      await enqueueWrite(() => insertBehaviour.run({ ...row, propertiesJson: JSON.stringify(row.properties) }));
      return row;
    },
    followRelayCursor(source) {
      relayCursor = source;
    },
    async advanceOutboxCursor(seq) {
      await enqueueWrite(() => outbox.advanceCursor(db, seq));
    },
    async getInteraction(interactionId) {
      const r = selectInteraction.get(interactionId) as Record<string, string | null> | undefined;
      return r ? interactionFromRow(r) : undefined;
    },
    async counts(): Promise<StoreCounts> {
      const { backlog, deadRows } = await outbox.stats();
      return {
        interactions: count("interaction_history"),
        decisions: count("decisions"),
        behaviourEvents: count("customer_events"),
        outbox: backlog + deadRows,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      flush();
      db.close();
    },
  };
}
