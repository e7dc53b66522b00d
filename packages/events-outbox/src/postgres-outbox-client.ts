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
 */
export class HeldClient {
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
