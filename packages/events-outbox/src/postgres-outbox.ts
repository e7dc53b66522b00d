// The PostgreSQL store (pg 8). The app passes its own Pool; enqueue takes the app's client inside its
// own BEGIN/COMMIT. This file never imports `pg`: the types below are structural.
//
// Several relays may share one database. Each batch runs in one relay transaction that holds a
// transaction-scoped advisory lock per partition key (pg_try_advisory_xact_lock), re-reads the rows of
// the keys it got, publishes, marks them and commits. So a key is only ever sent by one relay at a
// time, in seq order, and a crash rolls back to "pending" (sent again: at-least-once). Rows are
// chosen by status and due time, never by a high-water mark on seq, so a transaction that commits
// after a later-numbered one is still picked up.

import { ConfigError, ConnectionError } from "@kaireon/events-core";
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
  removeListener(event: "error", listener: (error: Error) => void): unknown;
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
  /**
   * Delay before the LISTEN connection is tried again after it failed or was lost: doubling from
   * `baseMs` up to `maxMs`, half of it random. Default 1 s … 30 s. The relay polls meanwhile.
   */
  listenRetry?: { baseMs?: number; maxMs?: number };
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

/**
 * A pooled client checked out for a while. pg-pool removes its own 'error' listener at checkout, and a
 * claim holds its client across the publish: a session the server ends meanwhile
 * (idle_in_transaction_session_timeout, pg_terminate_backend, a failover) would emit an 'error' nobody
 * listens to, which kills the process. This one records it instead; the batch is then rolled back by
 * the server and its rows stay pending.
 */
class HeldClient {
  lost: Error | undefined;
  private released = false;
  private readonly onError = (error: Error) => {
    this.lost ??= error;
  };
  constructor(readonly client: PgClientLike) {
    client.on("error", this.onError);
  }

  static async from(pool: PgPoolLike): Promise<HeldClient> {
    return new HeldClient(await pool.connect());
  }

  query(text: string, values?: unknown[]) {
    if (this.lost) return Promise.reject(this.lostError());
    return this.client.query(text, values);
  }

  lostError(): ConnectionError {
    return new ConnectionError({
      backend: "outbox",
      message: `[outbox] the database session was ended by the server (${this.lost?.message}) — its transaction rolled back, the rows stay pending and are sent again`,
      cause: this.lost,
    });
  }

  /** Back to the pool; a session that failed is destroyed, not reused. */
  release(destroy?: Error | true) {
    if (this.released) return;
    this.released = true;
    this.client.removeListener("error", this.onError);
    this.client.release(this.lost ?? destroy);
  }

  async rollback() {
    if (this.lost) return this.release();
    try {
      await this.client.query("ROLLBACK");
      this.release();
    } catch (error) {
      this.release(error instanceof Error ? error : true);
    }
  }
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

  // One statement: the rows and the NOTIFY (delivered by PostgreSQL only if the transaction commits;
  // identical notifications in one transaction are folded into one).
  const insertSql = `WITH ins AS (
      INSERT INTO ${t} (event_id, topic, partition_key, payload)
      SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
      RETURNING 1
    ) SELECT pg_notify($5, '') FROM (SELECT count(*) FROM ins) AS c`;

  async function complete(client: HeldClient, outcomes: readonly RowOutcome[]) {
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
      const client = await HeldClient.from(pool);
      try {
        await client.query("BEGIN");
        // 1. Which rows could be sent now: the oldest pending rows, in order, skipping keys whose head
        // waits for a retry (an ordered walk of the pending index: cheap however large the backlog).
        const window = Math.max(limit * 2, 256);
        const scan = await client.query(
          `SELECT seq, partition_key, next_attempt_at <= clock_timestamp() AS ready FROM ${t}
           WHERE status = 'pending' ORDER BY seq LIMIT $1`,
          [window],
        );
        const blocked = new Set<string>();
        const chosen = pickSendable(scan.rows, limit, blocked);
        if (chosen.length < limit && scan.rows.length === window) {
          // The oldest rows are mostly keys waiting for a retry: look past them, leaving out every key
          // that has a row waiting, so the keys behind them are never starved. (A due row of such a key
          // that is older than its waiting row goes when it reaches the oldest rows, or with the key.)
          const waits = await client.query(
            // (SELECT clock_timestamp()) is evaluated once, so the due-time index serves the range.
            `SELECT DISTINCT partition_key AS k FROM ${t} WHERE status = 'pending' AND next_attempt_at > (SELECT clock_timestamp())`,
          );
          for (const r of waits.rows) blocked.add(r.k as string);
          const after = scan.rows[scan.rows.length - 1].seq as string;
          const more = await client.query(
            `SELECT seq, partition_key, next_attempt_at <= clock_timestamp() AS ready FROM ${t}
             WHERE status = 'pending' AND seq > $1 AND partition_key <> ALL($2::text[]) ORDER BY seq LIMIT $3`,
            [after, [...blocked], limit - chosen.length],
          );
          chosen.push(...pickSendable(more.rows, limit - chosen.length, blocked));
        }
        const keys = [...new Set(chosen.map((r) => r.partitionKey))];
        if (keys.length === 0) {
          await client.rollback();
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
          await client.rollback();
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
          await client.rollback();
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
              await client.rollback();
              throw client.lost ? client.lostError() : error;
            }
          },
          async abandon() {
            if (settled) return;
            settled = true;
            await client.rollback();
          },
        } satisfies Claim;
      } catch (error) {
        await client.rollback();
        throw client.lost ? client.lostError() : error;
      }
    },

    async nextDueInMs() {
      // 0 when a row can be sent now; otherwise when the first waiting head is due. Rows queued behind
      // a waiting head of their key are due on paper but cannot go: counting them would spin the relay.
      const { rows } = await pool.query(
        `WITH now AS (SELECT clock_timestamp() AS at),
         heads AS (
           SELECT DISTINCT ON (partition_key) partition_key, seq, next_attempt_at FROM ${t}
           WHERE status = 'pending' AND next_attempt_at > (SELECT at FROM now) ORDER BY partition_key, seq
         )
         SELECT EXISTS (
                  SELECT 1 FROM ${t} o LEFT JOIN heads h ON h.partition_key = o.partition_key
                  WHERE o.status = 'pending' AND o.next_attempt_at <= (SELECT at FROM now) AND (h.seq IS NULL OR o.seq < h.seq)
                ) AS ready,
                (SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - (SELECT at FROM now)) * 1000) FROM heads) AS due`,
      );
      const r = rows[0] ?? {};
      if (r.ready) return 0;
      return r.due === null || r.due === undefined ? undefined : Math.ceil(Number(r.due));
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
      let failures = 0;
      const released = new WeakSet<PgClientLike>();
      const connect = async () => {
        let c: PgClientLike | undefined;
        try {
          c = await pool.connect();
          const mine = c;
          mine.on("notification", (message) => {
            if (message.channel === t) wake();
          });
          mine.on("error", (error) => {
            onError(error);
            drop(mine, error);
          });
          await mine.query(`LISTEN ${t}`);
          if (stopped) return drop(mine);
          client = mine;
          failures = 0;
          // Anything committed while we were not listening is picked up now.
          wake();
        } catch (error) {
          // The session is in an unknown state: destroy it, or every failed attempt keeps one pooled
          // connection for good and the app's pool runs dry.
          if (c) drop(c);
          onError(
            new ConnectionError({ backend: "outbox", message: `[outbox] LISTEN ${t} failed: ${(error as Error).message}`, cause: error }),
          );
          schedule();
        }
      };
      const drop = (c: PgClientLike, error?: Error) => {
        if (released.has(c)) return;
        released.add(c);
        c.removeAllListeners("notification");
        c.removeAllListeners("error");
        c.on("error", () => {});
        c.release(error ?? true);
        if (client === c) client = undefined;
        if (error) schedule();
      };
      const schedule = () => {
        if (stopped || retry) return;
        // Doubling, capped, half of it random: a database that keeps refusing is asked less and less
        // often, and relays restarted together do not retry in step.
        const cap = Math.min(listenRetry.maxMs, listenRetry.baseMs * 2 ** Math.min(failures, 30));
        failures++;
        retry = setTimeout(
          () => {
            retry = undefined;
            void connect();
          },
          cap / 2 + Math.random() * (cap / 2),
        );
        retry.unref?.();
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

interface ScanRow {
  seq: string;
  partition_key: string;
  ready: boolean;
}

/** The rows of a scan (in seq order) that may be sent, with `blocked` carried across scans. */
function pickSendable(rows: readonly ScanRow[], limit: number, blocked: Set<string>): { seq: string; partitionKey: string }[] {
  const scanned = rows.map((r) => ({ seq: r.seq, partitionKey: r.partition_key, ready: r.ready }));
  return selectSendable(scanned, limit, blocked).map((i) => scanned[i] as (typeof scanned)[number]);
}

const emptyClaim: Claim = { rows: [], complete: async () => {}, abandon: async () => {} };
