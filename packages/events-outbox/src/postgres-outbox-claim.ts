// The PostgreSQL claim. Each batch runs in one relay transaction that holds a transaction-scoped
// advisory lock per partition key (pg_try_advisory_xact_lock), re-reads the rows of the keys it got,
// publishes, marks them and commits. So a key is only ever sent by one relay at a time, in seq
// order, and a crash rolls back to "pending" (sent again: at-least-once). Rows are chosen by status
// and due time, never by a high-water mark on seq, so a transaction that commits after a
// later-numbered one is still picked up.

import { selectSendable } from "./outbox-select.js";
import type { Claim, ClaimedRow, RowOutcome } from "./outbox-store.js";
import { HeldClient, type PgPoolLike } from "./postgres-outbox-client.js";
import { LOCK_NAMESPACE } from "./postgres-outbox-schema.js";

const emptyClaim: Claim = { rows: [], complete: async () => {}, abandon: async () => {} };

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

/** Claims up to `limit` rows of table `t` in a transaction of its own, which the returned claim ends. */
export async function claimPostgres(pool: PgPoolLike, t: string, limit: number, timeoutMs = 0): Promise<Claim> {
  const client = await HeldClient.from(pool, timeoutMs);
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
    return new PostgresClaim(client, t, rows);
  } catch (error) {
    await client.rollback();
    throw client.lost ? client.lostError() : error;
  }
}

/** A claimed batch: its transaction (and the keys' locks) stay open until complete or abandon. */
class PostgresClaim implements Claim {
  private state: "open" | "settled" = "open";

  constructor(
    private readonly client: HeldClient,
    private readonly t: string,
    readonly rows: readonly ClaimedRow[],
  ) {}

  async complete(outcomes: readonly RowOutcome[]): Promise<void> {
    if (this.state === "settled") return;
    this.state = "settled";
    const { client } = this;
    try {
      await this.record(outcomes);
      await client.query("COMMIT");
      client.release();
    } catch (error) {
      await client.rollback();
      throw client.lost ? client.lostError() : error;
    }
  }

  async abandon(): Promise<void> {
    if (this.state === "settled") return;
    this.state = "settled";
    await this.client.rollback();
  }

  /** One UPDATE per kind of outcome, each row's values passed as arrays. */
  private async record(outcomes: readonly RowOutcome[]): Promise<void> {
    const { client, t } = this;
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
}
