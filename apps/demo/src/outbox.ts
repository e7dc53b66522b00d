// Opens the store the environment asks for (SQLite file by default, PostgreSQL with DATABASE_URL)
// together with its @kaireon/events-outbox table, and starts the relay that drains that outbox to
// the loaded Publisher. Shared by the server (relay inline), the relay thread and relay-main.ts.

import { type ConfigError, type Env, EventsError, type Logger, loadPublisher, type Publisher, redactUrl } from "@kaireon/events-core";
import {
  createOutboxRelay,
  createPostgresOutbox,
  createSqliteOutbox,
  type OutboxMetrics,
  type OutboxRelay,
  type OutboxStore,
  readOutboxConfig,
  type SqliteDatabaseLike,
  type SqliteOutbox,
} from "@kaireon/events-outbox";
import pg from "pg";
import { backendEnv, type DemoOptions, readDemoOptions } from "./config.js";
import { createPostgresStore } from "./postgres-store.js";
import { demoSecrets, redactError, redactingLogger } from "./secrets.js";
import { createSqliteStore, openSqlite } from "./sqlite-store.js";
import type { DemoStore } from "./store.js";

/** The outbox table (the package's default name, spelled out because counts() reads it). */
export const OUTBOX_TABLE = "kaireon_outbox";

export interface OpenedStore {
  store: DemoStore;
  outbox: OutboxStore;
}

export async function openStore(options: Pick<DemoOptions, "DATABASE_URL" | "DEMO_DATA_DIR">): Promise<OpenedStore> {
  if (options.DATABASE_URL) {
    const pool = new pg.Pool({ connectionString: options.DATABASE_URL, max: 10 });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    try {
      const outbox = createPostgresOutbox({ pool, table: OUTBOX_TABLE });
      await outbox.migrate();
      const store = await createPostgresStore({
        pool,
        location: redactUrl(options.DATABASE_URL),
        enqueue: (client, event) => outbox.enqueue(client, event),
        outboxSize: async () => Number((await pool.query(`SELECT count(*)::int AS n FROM ${OUTBOX_TABLE}`)).rows[0]?.n ?? 0),
      });
      return { store, outbox };
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
  }
  const { db, file } = openSqlite(options.DEMO_DATA_DIR);
  try {
    const outbox = createSqliteOutbox({ db, table: OUTBOX_TABLE });
    // The server and relay-main may open one fresh file at the same moment: the outbox's migration
    // takes SQLite's write lock up front, so the second opener waits (busy_timeout) instead of failing.
    await outbox.migrate();
    const countOutbox = db.prepare(`SELECT count(*) AS n FROM ${OUTBOX_TABLE}`);
    const store = createSqliteStore(db, file, {
      enqueue: (tx, event) => outbox.enqueue(tx, event),
      outboxSize: () => (countOutbox.get() as { n: number }).n,
    });
    return { store, outbox };
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * The demo's relay linger when OUTBOX_LINGER_MS is unset: under load, rows committed within 20 ms
 * leave in one batch (one claim, one cursor write, one pipelined send) instead of one batch per
 * commit; the relay's CPU per event falls by about half, for at most 20 ms more delivery latency.
 */
export const DEMO_LINGER_MS = 20;

/**
 * The relay's refusal of a disabled stream (EVENT_PUBLISHER=redis without REDIS_URL): it would mark
 * rows sent that went nowhere. Not a crash for the demo: the server keeps serving, the events wait
 * in the outbox, and /health says what to set.
 */
export function isPublisherDisabled(error: unknown): error is ConfigError {
  return EventsError.isInstance(error) && error.code === "CONFIG_INVALID" && error.details?.reason === "publisher-disabled";
}

/** Starts a relay on `outbox` → `publisher`, tuned by the OUTBOX_* variables. */
export async function startRelay(outbox: OutboxStore, publisher: Publisher, env: Env, logger: Logger): Promise<OutboxRelay> {
  const config = readOutboxConfig(env);
  if (!env.OUTBOX_LINGER_MS?.trim()) config.lingerMs = DEMO_LINGER_MS;
  const relay = createOutboxRelay({ store: outbox, publisher, logger, migrate: false, ...config });
  try {
    await relay.start();
  } catch (error) {
    await relay.stop().catch(() => {});
    throw error;
  }
  return relay;
}

/** How often a relay thread or process checkpoints the SQLite WAL (PASSIVE: never blocks the writer). */
const CHECKPOINT_EVERY_MS = 100;
/** The server's own automatic checkpoint while a relay thread does them: a fallback, if that thread stops. */
const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * Checkpoints the SQLite WAL every CHECKPOINT_EVERY_MS from this thread, so the server's commits do
 * not have to (each checkpoint writes the committed pages into the database file and fsyncs it: a
 * latency spike for whichever request's commit triggers it). No-op on PostgreSQL. Returns a stop function.
 */
export function startCheckpoints(outbox: OutboxStore): () => void {
  const db = sqliteDb(outbox);
  if (!db) return () => {};
  const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  const timer = setInterval(() => {
    try {
      checkpoint.get();
    } catch {
      // Busy or closing: the next tick tries again; the server's fallback checkpoint bounds the WAL.
    }
  }, CHECKPOINT_EVERY_MS);
  return () => clearInterval(timer);
}

/** The server's side of startCheckpoints: its own automatic checkpoint becomes the fallback. */
export function leaveCheckpointsToRelay(outbox: OutboxStore): void {
  sqliteDb(outbox)?.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
}

function sqliteDb(outbox: OutboxStore): SqliteDatabaseLike | undefined {
  return outbox.kind === "sqlite" ? (outbox as SqliteOutbox).db : undefined;
}

/** A relay with its own publisher and database connection: the relay thread's and relay-main's. */
export interface StandaloneRelay {
  publisher: Publisher;
  store: DemoStore;
  relay: OutboxRelay;
  /** Finishes the in-flight batch, closes the publisher and the connection; the relay's last metrics. */
  stop(): Promise<OutboxMetrics | undefined>;
}

/** Loads the backend and opens the store from `env`, starts the relay and (SQLite) the checkpoints. */
export async function startStandaloneRelay(env: Env, logger: Logger): Promise<StandaloneRelay> {
  const secrets = demoSecrets(env);
  return openStandaloneRelay(env, redactingLogger(logger, secrets)).catch((error: unknown) => {
    throw redactError(error, secrets);
  });
}

async function openStandaloneRelay(env: Env, logger: Logger): Promise<StandaloneRelay> {
  const options = readDemoOptions(env);
  const publisher = await loadPublisher(backendEnv(env), { logger, resolveFrom: import.meta.url });
  try {
    const { store, outbox } = await openStore(options);
    try {
      const relay = await startRelay(outbox, publisher, env, logger);
      const stopCheckpoints = startCheckpoints(outbox);
      return {
        publisher,
        store,
        relay,
        async stop() {
          await relay.stop();
          stopCheckpoints();
          const metrics = await relay.metrics().catch(() => undefined);
          await publisher.close().catch(() => {});
          await store.close().catch(() => {});
          return metrics;
        },
      };
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
  } catch (error) {
    // A publisher left open (a client reconnecting) would keep the thread or process alive.
    await publisher.close().catch(() => {});
    throw error;
  }
}
