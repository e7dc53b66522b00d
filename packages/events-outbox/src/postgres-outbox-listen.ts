// The LISTEN connection of a PostgreSQL relay: one pooled client held for LISTEN <table>, so relays
// in other processes wake within milliseconds of a COMMIT. A connection that fails or is lost is
// destroyed (never returned to the pool in an unknown state) and opened again after a backoff;
// meanwhile the relay polls.

import { ConnectionError } from "@kaireon/events-core";
import { bounded, type PgClientLike, type PgPoolLike } from "./postgres-outbox-client.js";

export interface ListenRetry {
  baseMs: number;
  maxMs: number;
}

export class ListenSupervisor {
  private state: "connecting" | "listening" | "retrying" | "stopped" = "connecting";
  private client: PgClientLike | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed attempts since the last good connection: the backoff doubles with each. */
  private failures = 0;
  private readonly released = new WeakSet<PgClientLike>();

  constructor(
    private readonly pool: PgPoolLike,
    private readonly channel: string,
    private readonly retry: ListenRetry,
    private readonly wake: () => void,
    private readonly onError: (error: unknown) => void,
    /** Bound on getting the connection and on LISTEN (queryTimeoutMs); 0: none. */
    private readonly timeoutMs = 0,
  ) {}

  /** Resolves after the first attempt, listening or not (a failed one is retried in the background). */
  start(): Promise<void> {
    return this.connect();
  }

  async stop(): Promise<void> {
    this.state = "stopped";
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const c = this.client;
    if (c) {
      await c.query(`UNLISTEN ${this.channel}`).catch(() => {});
      this.drop(c);
    }
  }

  private async connect(): Promise<void> {
    let c: PgClientLike | undefined;
    try {
      const connecting = this.pool.connect();
      c = await this.within(connecting, "connecting", () =>
        connecting.then(
          (late) => this.drop(late),
          () => {},
        ),
      );
      const mine = c;
      mine.on("notification", (message) => {
        if (message.channel === this.channel) this.wake();
      });
      mine.on("error", (error) => {
        this.onError(error);
        this.drop(mine, error);
      });
      await this.within(mine.query(`LISTEN ${this.channel}`), `LISTEN ${this.channel}`);
      if (this.state === "stopped") return this.drop(mine);
      this.client = mine;
      this.state = "listening";
      this.failures = 0;
      // Anything committed while we were not listening is picked up now.
      this.wake();
    } catch (error) {
      // The session is in an unknown state: destroy it, or every failed attempt keeps one pooled
      // connection for good and the app's pool runs dry.
      if (c) this.drop(c);
      this.onError(
        new ConnectionError({
          backend: "outbox",
          message: `[outbox] LISTEN ${this.channel} failed: ${(error as Error).message}`,
          cause: error,
        }),
      );
      this.schedule();
    }
  }

  /** `promise` within timeoutMs; past it, `late` lets go of what it may still bring. */
  private within<T>(promise: Promise<T>, what: string, late?: () => void): Promise<T> {
    if (this.timeoutMs <= 0) return promise;
    return bounded(promise, this.timeoutMs, () => {
      promise.catch(() => {});
      late?.();
      return new Error(`no answer from the database within ${this.timeoutMs} ms while ${what} (queryTimeoutMs)`);
    });
  }

  private drop(c: PgClientLike, error?: Error): void {
    if (this.released.has(c)) return;
    this.released.add(c);
    c.removeAllListeners("notification");
    c.removeAllListeners("error");
    c.on("error", () => {});
    c.release(error ?? true);
    if (this.client === c) this.client = undefined;
    if (error) this.schedule();
  }

  private schedule(): void {
    if (this.state === "stopped" || this.retryTimer) return;
    this.state = "retrying";
    // Doubling, capped, half of it random: a database that keeps refusing is asked less and less
    // often, and relays restarted together do not retry in step.
    const cap = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        if (this.state === "stopped") return;
        this.state = "connecting";
        void this.connect();
      },
      cap / 2 + Math.random() * (cap / 2),
    );
    this.retryTimer.unref?.();
  }
}
