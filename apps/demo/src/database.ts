// Opens the database the environment asks for (SQLite file by default, PostgreSQL with
// DATABASE_URL) with its @kaireon/events-outbox table. The server opens it in full (tables, outbox
// migration, the store); a relay elsewhere only connects to it, given where it is.

import { redactUrl } from "@kaireon/events-core";
import { createPostgresOutbox, createSqliteOutbox, type OutboxStore } from "@kaireon/events-outbox";
import pg from "pg";
import type { DemoOptions } from "./config.js";
import { createPostgresStore } from "./postgres-store.js";
import { connectSqlite, createSqliteStore, openSqlite, sqliteFile } from "./sqlite-store.js";
import type { DemoStore } from "./store.js";

/** The outbox table: the package's default name, spelled out so every opener uses the same one. */
export const OUTBOX_TABLE = "kaireon_outbox";

/** Where the database is: all a relay needs to reach the outbox. Plain data (it crosses to a worker). */
export type DatabaseLocation = { kind: "sqlite"; file: string } | { kind: "postgres"; url: string };

export function databaseLocation(options: Pick<DemoOptions, "DATABASE_URL" | "DEMO_DATA_DIR">): DatabaseLocation {
  return options.DATABASE_URL
    ? { kind: "postgres", url: options.DATABASE_URL }
    : { kind: "sqlite", file: sqliteFile(options.DEMO_DATA_DIR) };
}

export interface OpenedStore {
  store: DemoStore;
  /** The store's own outbox, on the same connection (for the relay, /health and the wake-ups). */
  outbox: OutboxStore;
  location: DatabaseLocation;
}

function newPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  return pool;
}

/** Opens the database, creates the demo's tables and migrates the outbox; the server's start-up. */
export async function openStore(options: Pick<DemoOptions, "DATABASE_URL" | "DEMO_DATA_DIR">): Promise<OpenedStore> {
  const location = databaseLocation(options);
  if (location.kind === "postgres") {
    const pool = newPool(location.url);
    try {
      const outbox = createPostgresOutbox({ pool, table: OUTBOX_TABLE });
      await outbox.migrate();
      const store = await createPostgresStore({ pool, location: redactUrl(location.url), outbox });
      return { store, outbox, location };
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
  }
  const { db, file } = openSqlite(options.DEMO_DATA_DIR);
  try {
    let store: DemoStore | undefined;
    // A relay on the server's own outbox (DEMO_RELAY=inline) moves its cursor in the store's group
    // commit: one commit fewer per batch, shared with the requests of that turn.
    const outbox = createSqliteOutbox({
      db,
      table: OUTBOX_TABLE,
      cursorWriter: (seq) =>
        store?.advanceOutboxCursor ? store.advanceOutboxCursor(seq) : Promise.reject(new Error("[demo] the store is not open")),
    });
    // The server and relay-main may open one fresh file at the same moment: the outbox's migration
    // takes SQLite's write lock up front, so the second opener waits (busy_timeout) instead of failing.
    await outbox.migrate();
    store = createSqliteStore(db, file, outbox);
    return { store, outbox, location };
  } catch (error) {
    db.close();
    throw error;
  }
}

export interface RelayConnection {
  outbox: OutboxStore;
  close(): Promise<void>;
}

/**
 * A connection of its own to the outbox at `location`, for a relay: no demo tables, nothing migrated
 * here (the relay's start() migrates when asked). `create`: a SQLite file that may not exist yet is
 * made (relay-main may start before the server); a relay thread's file always exists.
 * `watchCommitsMs`: SQLite only — wake the relay when another process commits (relay-main, which no
 * enqueue of the server can wake; PostgreSQL's NOTIFY does that job there). `cursorWriter`: SQLite
 * only — the relay's cursor is committed by the server's writer (a relay thread; see relay-thread.ts).
 */
export function connectOutbox(
  location: DatabaseLocation,
  {
    create = false,
    watchCommitsMs,
    cursorWriter,
  }: { create?: boolean; watchCommitsMs?: number; cursorWriter?: ((seq: number) => Promise<void>) | undefined } = {},
): RelayConnection {
  if (location.kind === "postgres") {
    const pool = newPool(location.url);
    return { outbox: createPostgresOutbox({ pool, table: OUTBOX_TABLE }), close: () => pool.end() };
  }
  const db = connectSqlite(location.file, { create });
  return {
    outbox: createSqliteOutbox({
      db,
      table: OUTBOX_TABLE,
      ...(watchCommitsMs === undefined ? {} : { watchCommitsMs }),
      ...(cursorWriter === undefined ? {} : { cursorWriter }),
    }),
    close: async () => {
      db.close();
    },
  };
}
