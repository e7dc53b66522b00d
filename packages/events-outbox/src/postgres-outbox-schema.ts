// The PostgreSQL outbox's table and how a database gets to the current version: one row per event
// with its status, attempts and due time, and partial indexes on the pending, sent and dead rows.

import { HeldClient, type PgPoolLike } from "./postgres-outbox-client.js";

const SCHEMA_VERSION = 1;
// First argument of the two-key advisory locks: keeps ours apart from the app's own advisory locks.
export const LOCK_NAMESPACE = 0x6b6f62; // "kob"

function migrations(t: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (
       seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       event_id uuid NOT NULL UNIQUE,
       topic text NOT NULL,
       partition_key text NOT NULL,
       payload text NOT NULL,
       status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
       attempts integer NOT NULL DEFAULT 0,
       next_attempt_at timestamptz NOT NULL DEFAULT now(),
       last_error text,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       sent_at timestamptz
     );
     CREATE INDEX IF NOT EXISTS ${t}_pending ON ${t} (seq) WHERE status = 'pending';
     CREATE INDEX IF NOT EXISTS ${t}_pending_key ON ${t} (partition_key, seq) WHERE status = 'pending';
     CREATE INDEX IF NOT EXISTS ${t}_due ON ${t} (next_attempt_at) WHERE status = 'pending';
     CREATE INDEX IF NOT EXISTS ${t}_sent ON ${t} (sent_at) WHERE status = 'sent';
     CREATE INDEX IF NOT EXISTS ${t}_dead ON ${t} (seq) WHERE status = 'dead';`,
  ];
}

/** Creates or upgrades table `t`; versioned, idempotent, serialised across processes by an advisory lock. */
export async function migratePostgres(pool: PgPoolLike, t: string): Promise<void> {
  const client = await HeldClient.from(pool);
  try {
    await client.query("BEGIN");
    // Serialises concurrent migrations (several app instances starting at once).
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LOCK_NAMESPACE, `migrate:${t}`]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${t}_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query(`SELECT coalesce(max(version), 0) AS v FROM ${t}_schema`);
    const steps = migrations(t);
    for (let v = Number(rows[0]?.v ?? 0); v < Math.min(SCHEMA_VERSION, steps.length); v++) {
      await client.query(steps[v] as string);
      await client.query(`INSERT INTO ${t}_schema (version) VALUES ($1)`, [v + 1]);
    }
    await client.query("COMMIT");
    client.release();
  } catch (error) {
    await client.rollback();
    throw error;
  }
}
