// The PostgreSQL store (pg 8). The app passes its own Pool; enqueue takes the app's client inside its
// own BEGIN/COMMIT. This package never imports `pg`: the types in postgres-outbox-client.ts are
// structural. Several relays may share one database: the claim (postgres-outbox-claim.ts) locks each
// partition key it sends. The table: postgres-outbox-schema.ts; waking: postgres-outbox-listen.ts.

import { ConfigError } from "@kaireon/events-core";
import { checkTableName, EnqueueListeners, toRows } from "./outbox-rows.js";
import type { EventOrEvents, OutboxStats, OutboxStore } from "./outbox-store.js";
import { claimPostgres } from "./postgres-outbox-claim.js";
import { boundedQuery, type PgPoolLike, type PgQueryableLike } from "./postgres-outbox-client.js";
import { ListenSupervisor } from "./postgres-outbox-listen.js";
import { migratePostgres } from "./postgres-outbox-schema.js";

export type { PgClientLike, PgPoolLike, PgQueryableLike, PgQueryResultLike } from "./postgres-outbox-client.js";

export interface PostgresOutboxOptions {
  /** The app's pg Pool: the relay takes one connection per batch, plus one held for LISTEN. */
  pool: PgPoolLike;
  /** Table name; default `kaireon_outbox`. Also the LISTEN/NOTIFY channel. */
  table?: string;
  /**
   * Delay before the LISTEN connection is tried again after it failed or was lost: doubling from
   * `baseMs` up to `maxMs`, half of it random. Default 1 s … 30 s. The relay polls meanwhile.
   */
  listenRetry?: { baseMs?: number; maxMs?: number };
  /**
   * The longest the relay waits for the database: to get a connection, for one statement of a batch
   * (claim, marking rows), for the LISTEN connection. Past it the session is dropped (a half-open
   * connection would otherwise hold the relay for good), the tick fails and is retried; the batch's
   * rows stay pending. Default 30 s. Not applied to migrate() (a migration may wait for another one)
   * nor to enqueue (your client, your transaction).
   */
  queryTimeoutMs?: number;
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

function positiveMs(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 1) {
    throw new ConfigError({
      backend: "outbox",
      message: `[outbox] createPostgresOutbox option "${name}" is ${value} — use a number of milliseconds ≥ 1`,
    });
  }
  return value;
}

export function createPostgresOutbox(options: PostgresOutboxOptions): PostgresOutbox {
  const { pool } = options;
  const t = checkTableName("createPostgresOutbox", options.table ?? "kaireon_outbox");
  const listeners = new EnqueueListeners();
  const listenRetry = {
    baseMs: positiveMs("listenRetry.baseMs", options.listenRetry?.baseMs ?? 1000),
    maxMs: positiveMs("listenRetry.maxMs", options.listenRetry?.maxMs ?? 30_000),
  };
  const timeoutMs = positiveMs("queryTimeoutMs", options.queryTimeoutMs ?? 30_000);
  const query = (text: string, values?: unknown[]) => boundedQuery(pool, timeoutMs, text, values);

  // One statement: the rows and the NOTIFY (delivered by PostgreSQL only if the transaction commits;
  // identical notifications in one transaction are folded into one).
  const insertSql = `WITH ins AS (
      INSERT INTO ${t} (event_id, topic, partition_key, payload)
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
      RETURNING 1
    ) SELECT pg_notify($5, '') FROM (SELECT count(*) FROM ins) AS c`;

  return {
    kind: "postgres",
    table: t,

    migrate: () => migratePostgres(pool, t),

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

    claim: (limit) => claimPostgres(pool, t, limit, timeoutMs),

    async nextDueInMs() {
      // 0 when a row can be sent now; otherwise when the first waiting head is due. Rows queued behind
      // a waiting head of their key are due on paper but cannot go: counting them would spin the relay.
      const { rows } = await query(
        `WITH now AS (SELECT clock_timestamp() AS at),
         heads AS (
           SELECT DISTINCT ON (partition_key) partition_key, seq, next_attempt_at FROM ${t}
           WHERE status = 'pending' AND next_attempt_at > (SELECT at FROM now) ORDER BY partition_key, seq
         )
         SELECT EXISTS (
                  SELECT 1 FROM ${t} o LEFT JOIN heads h ON h.partition_key = o.partition_key
                  WHERE o.status = 'pending' AND o.next_attempt_at <= (SELECT at FROM now) AND (h.seq IS NULL OR o.seq < h.seq)
                ) AS ready,
                (SELECT extract(epoch FROM min(next_attempt_at) - (SELECT at FROM now)) * 1000 FROM heads) AS due`,
      );
      const r = rows[0] ?? {};
      if (r.ready) return 0;
      // min() over no heads is NULL: nothing pending. (greatest(0, NULL) in SQL would be 0 — "due now" —
      // and an idle relay would claim every CONTENDED_WAIT_MS instead of sleeping until a wake-up.)
      return r.due === null || r.due === undefined ? undefined : Math.max(0, Math.ceil(Number(r.due)));
    },

    async pruneSent(olderThanMs, limit) {
      const result = await query(
        `DELETE FROM ${t} WHERE seq IN (
           SELECT seq FROM ${t} WHERE status = 'sent' AND sent_at < clock_timestamp() - $1 * interval '1 millisecond' LIMIT $2)`,
        [olderThanMs, limit],
      );
      return result.rowCount ?? 0;
    },

    async stats(): Promise<OutboxStats> {
      const { rows } = await query(
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
          ? await query(
              `UPDATE ${t} SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now() WHERE status = 'dead'`,
            )
          : await query(
              `UPDATE ${t} SET status = 'pending', attempts = 0, next_attempt_at = now(), updated_at = now()
               WHERE status = 'dead' AND event_id = ANY($1::uuid[])`,
              [eventIds],
            );
      return result.rowCount ?? 0;
    },

    async listen(wake, onError) {
      const supervisor = new ListenSupervisor(pool, t, listenRetry, wake, onError, timeoutMs);
      await supervisor.start();
      return () => supervisor.stop();
    },

    onEnqueue(listener) {
      return listeners.add(listener);
    },
  };
}
