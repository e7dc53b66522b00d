// Gathers concurrent publishes into batches for clients that have no linger setting of their own
// (kafkajs, the AWS SDK). Bounded on every side: queue length (QUEUE_FULL), batch size and bytes,
// batches in flight, and time (each entry settles by its deadline with PUBLISH_TIMEOUT). An entry
// still queued at its deadline is removed and never sent; one already in flight may still land,
// which the timeout error says. With `orderKey`, two batches never carry the same key at once, so
// per-key order holds even with several batches in flight.

import { EventsError, PublishError } from "./errors.js";

export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface BatcherOptions<T, R> {
  backend: string;
  /** Sends one batch; returns one outcome per item, in order. A throw fails the whole batch. */
  send: (items: T[]) => Promise<ItemOutcome<R>[]>;
  maxBatchSize: number;
  /** Byte budget of one batch, measured with `sizeOf`. */
  maxBatchBytes?: number;
  sizeOf?: (item: T) => number;
  /**
   * `sizeOf` does real work (it serialises): call it when a batch is formed instead of in add(), and
   * for the next batch while the current one is in flight, so that work fills the wait for the
   * broker instead of the caller's turn. An event over `maxBatchBytes` is then rejected when it is
   * reached (still never sent), not inside add().
   */
  sizeAhead?: boolean;
  /** How long the first item of a batch waits for company. 0 = the next turn of the event loop. */
  lingerMs: number;
  /** Items waiting (queued, not in flight) at most; beyond it add() rejects with QUEUE_FULL. */
  maxQueued: number;
  /** The variable or option that sets maxQueued (e.g. `REDIS_MAX_PENDING`), named in the QUEUE_FULL message. */
  maxQueuedName?: string;
  /** Batches sent concurrently. 1 keeps every item in order. */
  maxInFlight?: number;
  /** With maxInFlight > 1: items of one key are never in two in-flight batches at once. */
  orderKey?: (item: T) => string;
  /**
   * With orderKey: a batch carries at most one item of each key. For APIs that may store the items of
   * one request out of order when some fail and are retried (Kinesis PutRecords): then a key's next
   * item is only sent once the previous one has settled.
   */
  oneItemPerKey?: boolean;
  /** Each add() settles within this many ms. */
  timeoutMs: number;
}

interface Entry<T, R> {
  item: T;
  /** undefined until measured (sizeAhead). */
  size: number | undefined;
  key: string | undefined;
  deadline: number;
  settled: boolean;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export class Batcher<T, R> {
  private queue: Entry<T, R>[] = [];
  private inFlight = new Set<Entry<T, R>[]>();
  private inFlightKeys = new Map<string, number>();
  private lingerTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private measureScheduled = false;
  private readonly maxInFlight: number;

  constructor(private readonly options: BatcherOptions<T, R>) {
    this.maxInFlight = options.maxInFlight ?? 1;
  }

  /** Entries not yet settled: queued plus in flight. */
  get pending(): number {
    let n = 0;
    for (const batch of this.inFlight) n += batch.length;
    return n + this.queue.length;
  }

  add(item: T): Promise<R> {
    const { backend, maxQueued, maxBatchBytes, sizeOf, orderKey, timeoutMs } = this.options;
    if (this.closed) {
      return Promise.reject(
        new PublishError({ backend, code: "PUBLISHER_CLOSED", message: `[${backend}] publisher is closed — create a new one` }),
      );
    }
    if (this.queue.length >= maxQueued) {
      return Promise.reject(
        new PublishError({
          backend,
          code: "QUEUE_FULL",
          message: `[${backend}] ${maxQueued} events are already waiting for the broker — the broker is slow or down; raise ${this.options.maxQueuedName ?? "the queue limit"} or slow down`,
          details: { maxQueued },
        }),
      );
    }
    let size: number | undefined;
    if (!this.options.sizeAhead) {
      size = sizeOf ? sizeOf(item) : 0;
      if (maxBatchBytes !== undefined && size > maxBatchBytes) return Promise.reject(this.tooLarge(size, maxBatchBytes));
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, size, key: orderKey?.(item), deadline: Date.now() + timeoutMs, settled: false, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when every entry added so far has settled. Sends queued entries without lingering. */
  flush(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.dispatch(true);
    });
  }

  /** Rejects new entries, then flushes the rest. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    clearTimeout(this.lingerTimer);
    clearInterval(this.sweepTimer);
  }

  private schedule(): void {
    this.ensureSweeper();
    if (this.inFlight.size >= this.maxInFlight) {
      this.measureSoon(); // the entry waits for a batch slot: prepare it meanwhile
    } else if (this.queue.length >= this.options.maxBatchSize) {
      this.dispatch(true);
    } else if (this.lingerTimer === undefined && this.inFlight.size < this.maxInFlight) {
      const fire = () => {
        this.lingerTimer = undefined;
        this.dispatch(true);
      };
      this.lingerTimer =
        this.options.lingerMs > 0 ? setTimeout(fire, this.options.lingerMs) : (setImmediate(fire) as unknown as NodeJS.Timeout);
    }
  }

  private dispatch(force: boolean): void {
    while (this.inFlight.size < this.maxInFlight && this.queue.length > 0) {
      if (!force && this.queue.length < this.options.maxBatchSize) return;
      const batch = this.take();
      if (batch.length === 0) return;
      void this.run(batch);
    }
  }

  private tooLarge(size: number, limit: number): PublishError {
    const { backend } = this.options;
    return new PublishError({
      backend,
      code: "EVENT_TOO_LARGE",
      message: `[${backend}] event is ${size} bytes, over the ${limit}-byte limit of one request — make the payload smaller`,
      details: { size, limit },
    });
  }

  /** The entry's size, measured now if it was not yet; false when it is over the limit (then rejected). */
  private measure(entry: Entry<T, R>): number | false {
    if (entry.size === undefined) {
      const { sizeOf, maxBatchBytes } = this.options;
      try {
        entry.size = sizeOf ? sizeOf(entry.item) : 0;
      } catch (error) {
        entry.settled = true;
        entry.reject(error);
        return false;
      }
      if (maxBatchBytes !== undefined && entry.size > maxBatchBytes) {
        entry.settled = true;
        entry.reject(this.tooLarge(entry.size, maxBatchBytes));
        return false;
      }
    }
    return entry.size;
  }

  /** sizeAhead: once the current turn is over, measure what waits for a batch slot. */
  private measureSoon(): void {
    if (!this.options.sizeAhead || this.measureScheduled || this.queue.length === 0) return;
    this.measureScheduled = true;
    setImmediate(() => {
      this.measureScheduled = false;
      this.measureAhead();
    });
  }

  /** sizeAhead: measure the entries of the next batch while the current one is in flight. */
  private measureAhead(): void {
    const { maxBatchSize, maxBatchBytes } = this.options;
    let bytes = 0;
    for (let i = 0, n = 0; i < this.queue.length && n < maxBatchSize; i++) {
      const entry = this.queue[i] as Entry<T, R>;
      if (entry.settled) continue;
      const size = this.measure(entry);
      if (size === false) continue;
      n++;
      bytes += size;
      if (maxBatchBytes !== undefined && bytes >= maxBatchBytes) break;
    }
  }

  private take(): Entry<T, R>[] {
    const { maxBatchSize, maxBatchBytes } = this.options;
    const batch: Entry<T, R>[] = [];
    const left: Entry<T, R>[] = [];
    const heldKeys = new Set<string>();
    const batchKeys = this.options.oneItemPerKey ? new Set<string>() : undefined;
    let bytes = 0;
    let i = 0;
    for (; i < this.queue.length && batch.length < maxBatchSize; i++) {
      const entry = this.queue[i] as Entry<T, R>;
      if (entry.settled) continue;
      if (entry.key !== undefined && (this.inFlightKeys.has(entry.key) || heldKeys.has(entry.key) || batchKeys?.has(entry.key))) {
        heldKeys.add(entry.key); // later entries of this key wait too, or they would overtake it
        left.push(entry);
        continue;
      }
      const size = this.measure(entry);
      if (size === false) continue;
      if (maxBatchBytes !== undefined && batch.length > 0 && bytes + size > maxBatchBytes) break;
      bytes += size;
      batch.push(entry);
      if (entry.key !== undefined) batchKeys?.add(entry.key);
    }
    this.queue = left.length === 0 ? this.queue.slice(i) : left.concat(this.queue.slice(i));
    for (const entry of batch) {
      if (entry.key !== undefined) this.inFlightKeys.set(entry.key, (this.inFlightKeys.get(entry.key) ?? 0) + 1);
    }
    return batch;
  }

  private async run(batch: Entry<T, R>[]): Promise<void> {
    this.inFlight.add(batch);
    const { backend } = this.options;
    try {
      const sending = this.options.send(batch.map((e) => e.item));
      // After send() has started its request, before its answer: the wait is the time to prepare.
      this.measureSoon();
      const outcomes = await sending;
      batch.forEach((entry, index) => {
        const outcome = outcomes[index];
        if (outcome === undefined)
          settle(entry, new PublishError({ backend, message: `[${backend}] the broker returned no result for this event` }));
        else if (outcome.ok) settle(entry, undefined, outcome.value);
        else settle(entry, outcome.error);
      });
    } catch (error) {
      for (const entry of batch) settle(entry, error);
    } finally {
      this.inFlight.delete(batch);
      for (const entry of batch) {
        if (entry.key === undefined) continue;
        const n = (this.inFlightKeys.get(entry.key) ?? 1) - 1;
        if (n === 0) this.inFlightKeys.delete(entry.key);
        else this.inFlightKeys.set(entry.key, n);
      }
      // Whatever queued up meanwhile goes now: the round trip we just waited for was the linger.
      this.dispatch(true);
      this.notifyIdle();
    }

    function settle(entry: Entry<T, R>, error: unknown, value?: R) {
      if (entry.settled) return;
      entry.settled = true;
      if (error === undefined) entry.resolve(value as R);
      else
        entry.reject(
          EventsError.isInstance(error)
            ? error
            : new PublishError({
                backend,
                message: `[${backend}] publish failed: ${(error as Error)?.message ?? String(error)}`,
                cause: error,
              }),
        );
    }
  }

  private ensureSweeper(): void {
    if (this.sweepTimer !== undefined) return;
    const every = Math.max(5, Math.min(250, Math.floor(this.options.timeoutMs / 10)));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    const now = Date.now();
    const { backend, timeoutMs } = this.options;
    let expiredQueued = false;
    for (const entry of this.queue) {
      if (entry.deadline > now) break; // queue is in deadline order
      if (entry.settled) continue;
      entry.settled = true;
      expiredQueued = true;
      entry.reject(
        new PublishError({
          backend,
          code: "PUBLISH_TIMEOUT",
          message: `[${backend}] not sent within ${timeoutMs} ms (the broker is slow or unreachable); the event was dropped before sending`,
          details: { sent: false },
        }),
      );
    }
    if (expiredQueued) this.queue = this.queue.filter((e) => !e.settled);
    for (const batch of this.inFlight) {
      for (const entry of batch) {
        if (entry.settled || entry.deadline > now) continue;
        entry.settled = true;
        entry.reject(
          new PublishError({
            backend,
            code: "PUBLISH_TIMEOUT",
            message: `[${backend}] no broker confirmation within ${timeoutMs} ms; the event may or may not have been stored`,
            details: { sent: "unknown" },
          }),
        );
      }
    }
    if (this.pending === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const unsettled = this.queue.some((e) => !e.settled) || [...this.inFlight].some((b) => b.some((e) => !e.settled));
    if (unsettled) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
