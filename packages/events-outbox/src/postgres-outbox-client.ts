// The part of pg the PostgreSQL outbox uses (structural types: this package never imports `pg`), and
// a pooled client held across a batch that survives the server ending its session.

import { ConnectionError } from "@kaireon/events-core";

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

/**
 * A pooled client checked out for a while. pg-pool removes its own 'error' listener at checkout, and a
 * claim holds its client across the publish: a session the server ends meanwhile
 * (idle_in_transaction_session_timeout, pg_terminate_backend, a failover) would emit an 'error' nobody
 * listens to, which kills the process. This one records it instead; the batch is then rolled back by
 * the server and its rows stay pending.
 *
 * With `timeoutMs`, connecting and each query are bounded too. pg waits for an answer for ever, and a
 * half-open connection (a NAT or load-balancer entry that expired, a server that froze) never answers
 * nor closes: without a bound the relay would sit in one batch for good and stop() would wait on it.
 * A query past the bound loses the session: it is destroyed, never reused (its answer may still come).
 */
export class HeldClient {
  lost: Error | undefined;
  /** The session was given up by us (no answer in time), not ended by the server. */
  private timedOut = false;
  private released = false;
  private readonly onError = (error: Error) => {
    this.lost ??= error;
  };
  constructor(
    readonly client: PgClientLike,
    private readonly timeoutMs = 0,
  ) {
    client.on("error", this.onError);
  }

  /** A client of the pool; with `timeoutMs`, one that does not come within it is a ConnectionError (and let go of when it comes). */
  static async from(pool: PgPoolLike, timeoutMs = 0): Promise<HeldClient> {
    if (timeoutMs <= 0) return new HeldClient(await pool.connect());
    const connecting = pool.connect();
    let late = false;
    try {
      return new HeldClient(
        await bounded(connecting, timeoutMs, () => {
          late = true;
          return noAnswer(timeoutMs, "connecting");
        }),
        timeoutMs,
      );
    } catch (error) {
      // A connection that completes after the bound came over the link that was too slow: destroyed.
      if (late)
        connecting.then(
          (c) => c.release(true),
          () => {},
        );
      throw error;
    }
  }

  query(text: string, values?: unknown[]): Promise<PgQueryResultLike> {
    if (this.lost) return Promise.reject(this.lostError());
    const running = this.client.query(text, values);
    if (this.timeoutMs <= 0) return running;
    return bounded(running, this.timeoutMs, () => {
      running.catch(() => {});
      this.timedOut = true;
      this.lost ??= noAnswer(this.timeoutMs, "a query");
      return this.lostError();
    });
  }

  lostError(): ConnectionError {
    if (this.timedOut)
      return new ConnectionError({
        backend: "outbox",
        message: `[outbox] no answer from the database within ${this.timeoutMs} ms (queryTimeoutMs) — the session is dropped and its transaction rolls back, the rows stay pending and are sent again`,
        details: { timeoutMs: this.timeoutMs },
        cause: this.lost,
      });
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
    // A destroyed session may still report the end of its socket: nobody else listens any more.
    if (this.lost ?? destroy) this.client.on("error", () => {});
    this.client.release(this.lost ?? destroy);
  }

  async rollback() {
    if (this.lost) return this.release();
    try {
      await this.query("ROLLBACK");
      this.release();
    } catch (error) {
      this.release(error instanceof Error ? error : true);
    }
  }
}

/** One statement on a client of its own, bounded like a held client's (the pool's own query() is not). */
export async function boundedQuery(pool: PgPoolLike, timeoutMs: number, text: string, values?: unknown[]): Promise<PgQueryResultLike> {
  const held = await HeldClient.from(pool, timeoutMs);
  try {
    return await held.query(text, values);
  } catch (error) {
    throw held.lost ? held.lostError() : error;
  } finally {
    held.release();
  }
}

function noAnswer(timeoutMs: number, what: string): ConnectionError {
  return new ConnectionError({
    backend: "outbox",
    message: `[outbox] no answer from the database within ${timeoutMs} ms while ${what} (queryTimeoutMs) — check the database and the network`,
    details: { timeoutMs },
  });
}

/** `promise`, or the error of `onTimeout` once `ms` passed. */
export function bounded<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
