// The PostgreSQL store (pg 8). The app passes its own Pool; enqueue takes the app's client inside its
// own BEGIN/COMMIT. This file never imports `pg`: the types below are structural.
//
// Several relays may share one database. Each batch runs in one relay transaction that holds a
// transaction-scoped advisory lock per partition key (pg_try_advisory_xact_lock), re-reads the rows of
// the keys it got, publishes, marks them and commits. So a key is only ever sent by one relay at a
// time, in seq order, and a crash rolls back to "pending" (sent again: at-least-once). Rows are
// chosen by status and due time, never by a high-water mark on seq, so a transaction that commits
// after a later-numbered one is still picked up.

import { ConnectionError } from "@kaireon/events-core";
import { checkTableName, EnqueueListeners, toRows } from "./outbox-rows.js";
import { selectSendable } from "./outbox-select.js";
import type { Claim, ClaimedRow, EventOrEvents, OutboxStats, OutboxStore, RowOutcome } from "./outbox-store.js";

export interface PgQueryResultLike {
  rows: any[];
  rowCount: number | null;
}

/** Anything with pg's `query(text, values)`: a Pool, a PoolClient, a Client. */
export interface PgQueryableLike {
  query(text: string, values?: unknown[]): Promise<PgQueryResultLike>;
}

export interface PgClientLike extends PgQueryableLike {
  release(destroy?: boolean | Error): void;
  on(event: "notification", listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

export interface PgPoolLike extends PgQueryableLike {
  connect(): Promise<PgClientLike>;
}

export interface PostgresOutboxOptions {
  /** The app's pg Pool: the relay takes one connection per batch, plus one held for LISTEN. */
  pool: PgPoolLike;
  /** Table name; default `kaireon_outbox`. Also the LISTEN/NOTIFY channel. */
  table?: string;
}

export interface PostgresOutbox extends OutboxStore {
  readonly kind: "postgres";
  readonly table: string;
  /**
   * Writes the events into the outbox with the client of your open transaction (after BEGIN, before
   * COMMIT): they commit or roll back with your rows, and relays are notified at commit. Validates
   * first: an invalid event throws ValidationError before any SQL.
   */
  enqueue(client: PgQueryableLike, events: EventOrEvents): Promise<void>;
  /** Wakes the relays of this process now. */
  notify(): void;
}

const SCHEMA_VERSION = 1;
// First argument of the two-key advisory locks: keeps ours apart from the app's own advisory locks.
const LOCK_NAMESPACE = 0x6b6f62; // "kob"

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

async function rollback(client: PgClientLike) {
  try {
    await client.query("ROLLBACK");
    client.release();
  } catch (error) {
    client.release(error instanceof Error ? error : true);
  }
}

export function createPostgresOutbox(options: PostgresOutboxOptions): PostgresOutbox {
  const { pool } = options;
  const t = checkTableName("createPostgresOutbox", options.table ?? "kaireon_outbox");
  const listeners = new EnqueueListeners();

  // One statement: the rows and the NOTIFY (delivered by PostgreSQL only if the transaction commits;
  // identical notifications in one transaction are folded into one).
  const insertSql = `WITH ins AS (
      INSERT INTO ${t} (event_id, topic, partition_key, payload)
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
      RETURNING 1
    ) SELECT pg_notify($5, '') FROM (SELECT count(*) FROM ins) AS c`;

  async function complete(client: PgClientLike, outcomes: readonly RowOutcome[]) {
    const sent: number[] = [];
    const retry = { seq: [] as number[], attempts: [] as number[], delay: [] as number[], error: [] as string[] };
    const dead = { seq: [] as number[], attempts: [] as number[], error: [] as string[] };
    for (const o of outcomes) {
      if (o.status === "sent") sent.push(o.seq);
      else if (o.status === "retry") {
        retry.seq.push(o.seq);
        retry.attempts.push(o.attempts);
        retry.delay.push(o.delayMs);
        retry.error.push(o.error);
      } else {
        dead.seq.push(o.seq);
        dead.attempts.push(o.attempts);
        dead.error.push(o.error);
      }
    }
    if (sent.length > 0) {
      await client.query(
        `UPDATE ${t} SET status = 'sent', attempts = attempts + 1, sent_at = clock_timestamp(), updated_at = clock_timestamp()
         WHERE seq = ANY($1::bigint[])`,
        [sent],
      );
    }
    if (retry.seq.length > 0) {
      await client.query(
        `UPDATE ${t} AS o SET attempts = u.attempts, last_error = u.error, updated_at = clock_timestamp(),
           next_attempt_at = clock_timestamp() + u.delay * interval '1 millisecond'
         FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[]) AS u(seq, attempts, delay, error) WHERE o.seq = u.seq`,
        [retry.seq, retry.attempts, retry.delay, retry.error],
      );
    }
    if (dead.seq.length > 0) {
      await client.query(
        `UPDATE ${t} AS o SET status = 'dead', attempts = u.attempts, last_error = u.error, updated_at = clock_timestamp()
         FROM unnest($1::bigint[], $2::int[], $3::text[]) AS u(seq, attempts, error) WHERE o.seq = u.seq`,
        [dead.seq, dead.attempts, dead.error],
      );
    }
  }

  const outbox: PostgresOutbox = {
    kind: "postgres",
    table: t,

    async migrate() {
      const client = await pool.connect();
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
        await rollback(client);
        throw error;
      }
    },

    async enqueue(client, events) {
      const rows = toRows(events);
      if (rows.length === 0) return;
      await client.query(insertSql, [
        rows.map((r) => r.eventId),
        rows.map((r) => r.topic),
        rows.map((r) => r.partitionKey),
        rows.map((r) => r.payload),
        t,
      ]);
      // Same-process relays: a hint only (the row may not be committed yet; NOTIFY covers the commit).
      listeners.emit();
    },

    notify() {
      listeners.emit();
    },

    async claim(limit) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        // 1. Which keys could send now: the oldest pending rows, in order, skipping keys whose head waits for a retry.
        const scan = await client.query(
          `SELECT seq, partition_key, next_attempt_at <= clock_timestamp() AS ready FROM ${t}
           WHERE status = 'pending' ORDER BY seq LIMIT $1`,
          [Math.max(limit * 2, 256)],
        );
        const scanned = scan.rows.map((r) => ({
          seq: r.seq as string,
          partitionKey: r.partition_key as string,
          ready: r.ready as boolean,
        }));
        const chosen = selectSendable(scanned, limit, new Set()).map((i) => scanned[i] as (typeof scanned)[number]);
        const keys = [...new Set(chosen.map((r) => r.partitionKey))];
        if (keys.length === 0) {
          await rollback(client);
          return emptyClaim;
        }
        // 2. Take the keys no other relay holds; held until this transaction ends.
        const locked = await client.query(
          `SELECT k FROM unnest($1::text[]) WITH ORDINALITY AS u(k, i)
           WHERE pg_try_advisory_xact_lock($2, hashtext(k)) ORDER BY i`,
          [keys, LOCK_NAMESPACE],
        );
        const mine = locked.rows.map((r) => r.k as string);
        if (mine.length === 0) {
          await rollback(client);
          return emptyClaim;
        }
        // 3. Re-read the chosen rows of those keys now that they are ours (by primary key): another relay
        // may have sent some (no longer pending) or scheduled a retry (not due: blocks the key again).
        const held = new Set(mine);
        const fresh = await client.query(
          `SELECT seq, event_id, partition_key, payload, attempts, next_attempt_at <= clock_timestamp() AS ready FROM ${t}
           WHERE seq = ANY($1::bigint[]) AND status = 'pending' ORDER BY seq`,
          [chosen.filter((r) => held.has(r.partitionKey)).map((r) => r.seq)],
        );
        const candidates = fresh.rows.map((r) => ({ partitionKey: r.partition_key as string, ready: r.ready as boolean }));
        const rows: ClaimedRow[] = selectSendable(candidates, limit, new Set()).map((i) => {
          const r = fresh.rows[i];
          return { seq: Number(r.seq), eventId: r.event_id, partitionKey: r.partition_key, payload: r.payload, attempts: r.attempts };
        });
        if (rows.length === 0) {
          await rollback(client);
          return emptyClaim;
        }
        let settled = false;
        return {
          rows,
          async complete(outcomes) {
            if (settled) return;
            settled = true;
            try {
              await complete(client, outcomes);
              await client.query("COMMIT");
              client.release();
            } catch (error) {
              await rollback(client);
              throw error;
            }
          },
          async abandon() {
            if (settled) return;
            settled = true;
            await rollback(client);
          },
        } satisfies Claim;
      } catch (error) {
        await rollback(client);
        throw error;
      }
    },

    async nextDueInMs() {
      const { rows } = await pool.query(
        `SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - clock_timestamp()) * 1000) AS due FROM ${t} WHERE status = 'pending'`,
      );
      const due = rows[0]?.due;
      return due === null || due === undefined ? undefined : Math.ceil(Number(due));
    },

    async pruneSent(olderThanMs, limit) {
      const result = await pool.query(
        `DELETE FROM ${t} WHERE seq IN (
           SELECT seq FROM ${t} WHERE status = 'sent' AND sent_at < clock_timestamp() - $1 * interval '1 millisecond' LIMIT $2)`,
        [olderThanMs, limit],
      );
      return result.rowCount ?? 0;
    },

    async stats(): Promise<OutboxStats> {
      const { rows } = await pool.query(
        `SELECT (SELECT count(*) FROM ${t} WHERE status = 'pending') AS backlog,
                (SELECT count(*) FROM ${t} WHERE status = 'dead') AS dead,
                (SELECT extract(epoch FROM clock_timestamp() - min(created_at)) * 1000 FROM ${t} WHERE status = 'pending') AS age`,
      );
      const r = rows[0] ?? {};
      return {
        backlog: Number(r.backlog ?? 0),
        deadRows: Number(r.dead ?? 0),
        oldestPendingAgeMs: r.age === null ? 0 : Math.max(0, Math.round(Number(r.age))),
      };
    },

    async requeueDead(eventIds) {
      const result =
        eventIds === undefined
          ? await pool.query(
              `UPDATE ${t} SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now() WHERE status = 'dead'`,
            )
          : await pool.query(
              `UPDATE ${t} SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
               WHERE status = 'dead' AND event_id = ANY($1::uuid[])`,
              [eventIds],
            );
      return result.rowCount ?? 0;
    },

    async listen(wake, onError) {
      let stopped = false;
      let client: PgClientLike | undefined;
      let retry: NodeJS.Timeout | undefined;
      const connect = async () => {
        try {
          const c = await pool.connect();
          c.on("notification", (message) => {
            if (message.channel === t) wake();
          });
          c.on("error", (error) => {
            onError(error);
            drop(c, error);
          });
          await c.query(`LISTEN ${t}`);
          if (stopped) return drop(c);
          client = c;
          // Anything committed while we were not listening is picked up now.
          wake();
        } catch (error) {
          onError(
            new ConnectionError({ backend: "outbox", message: `[outbox] LISTEN ${t} failed: ${(error as Error).message}`, cause: error }),
          );
          schedule();
        }
      };
      const drop = (c: PgClientLike, error?: Error) => {
        c.removeAllListeners("notification");
        c.removeAllListeners("error");
        c.on("error", () => {});
        c.release(error ?? true);
        if (client === c) client = undefined;
        if (error) schedule();
      };
      const schedule = () => {
        if (stopped || retry) return;
        retry = setTimeout(() => {
          retry = undefined;
          void connect();
        }, 1000);
      };
      await connect();
      return async () => {
        stopped = true;
        if (retry) clearTimeout(retry);
        const c = client;
        if (c) {
          await c.query(`UNLISTEN ${t}`).catch(() => {});
          drop(c);
        }
      };
    },

    onEnqueue(listener) {
      return listeners.add(listener);
    },
  };
  return outbox;
}

const emptyClaim: Claim = { rows: [], complete: async () => {}, abandon: async () => {} };
