// Gathers concurrent publishes into batches for clients that have no linger setting of their own
// (kafkajs, the AWS SDK). Bounded on every side: queue length (QUEUE_FULL), batch size and bytes,
// batches in flight, and time (each entry settles by its deadline with PUBLISH_TIMEOUT). An entry
// still queued at its deadline is removed and never sent; one already in flight may still land,
// which the timeout error says. With `orderKey`, two batches never carry the same key at once, so
// per-key order holds even with several batches in flight; and when an entry of a key fails, the
// entries of that key still queued behind it fail too (never sent), so a caller that retries in order
// (the outbox relay) does not find a later event of the key already delivered. `addAll` takes a
// caller's whole batch even when it is larger than the queue bound: what does not fit waits for room.
// `flush` waits for what was accepted before it, not for the batcher to be idle.

import { eventTooLargeError, publisherClosedError, queueFullError, toPublishError } from "./error-factories.js";
import { PublishError } from "./errors.js";

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
  /**
   * Items waiting (queued, not in flight) at most; beyond it add() rejects with QUEUE_FULL. addAll()
   * rejects only when there is no room at all; the rest of its batch waits for room (see addAll).
   */
  maxQueued: number;
  /** The variable or option that sets maxQueued (e.g. `REDIS_MAX_PENDING`), named in the QUEUE_FULL message. */
  maxQueuedName?: string;
  /** Batches sent concurrently. 1 keeps every item in order. */
  maxInFlight?: number;
  /**
   * Items of one key are never in two in-flight batches at once, and when an item of a key fails, the
   * items of that key still queued behind it are rejected (PUBLISH_FAILED, `sent: false`)
   * instead of being sent ahead of its retry. Set it whenever the caller relies on per-key order.
   */
  orderKey?: (item: T) => string;
  /**
   * With orderKey: a batch carries at most one item of each key. For APIs that may store the items of
   * one request out of order when some fail and are retried (Kinesis PutRecords): then a key's next
   * item is only sent once the previous one has settled.
   */
  oneItemPerKey?: boolean;
  /** Each add() settles within this many ms. */
  timeoutMs: number;
  /**
   * What addSettled() resolves with, made from the item and its value: the publisher's own result,
   * so the caller's promise is the entry's promise (no second promise and callbacks per event).
   */
  mapValue?: (item: T, value: R) => unknown;
  /** What addSettled() rejects with, made from the item's (already normalised) error. */
  mapError?: (item: T, error: unknown) => unknown;
}

interface Entry<T, R> {
  item: T;
  /** undefined until measured (sizeAhead). */
  size: number | undefined;
  key: string | undefined;
  deadline: number;
  /** Accepted in this order: flush() waits for the entries accepted before it. */
  seq: number;
  settled: boolean;
  /** Settled with an error (then later queued entries of its key must not go ahead of it). */
  failed: boolean;
  /** The error it failed with (the cause given to the entries of its key that fail behind it). */
  error?: unknown;
  /** Added by addSettled(): settled through mapValue / mapError. */
  mapped: boolean;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export class Batcher<T, R> {
  private queue: Entry<T, R>[] = [];
  /** addAll's entries beyond the queue bound, in order; non-empty only while the queue is full. */
  private waiting: Entry<T, R>[] = [];
  private nextSeq = 0;
  private inFlight = new Set<Entry<T, R>[]>();
  private inFlightKeys = new Map<string, number>();
  private lingerTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private flushWaiters: Array<{ upTo: number; resolve: () => void }> = [];
  private closed = false;
  private measureScheduled = false;
  private readonly maxInFlight: number;

  constructor(private readonly options: BatcherOptions<T, R>) {
    this.maxInFlight = options.maxInFlight ?? 1;
  }

  /** Entries not yet settled: queued (and waiting for room) plus in flight. */
  get pending(): number {
    // Unsettled only: an entry already rejected (its deadline passed, its key failed) waits for
    // nothing, though it stays in the queue or its batch until that is next swept or answered.
    let n = 0;
    for (const batch of this.inFlight) for (const entry of batch) if (!entry.settled) n++;
    for (const entry of this.queue) if (!entry.settled) n++;
    for (const entry of this.waiting) if (!entry.settled) n++;
    return n;
  }

  add(item: T): Promise<R> {
    return this.enqueue(item, false) as Promise<R>;
  }

  /** add(), settled with `mapValue(item, value)` or rejected with `mapError(item, error)`. */
  addSettled<P>(item: T): Promise<P> {
    return this.enqueue(item, true) as Promise<P>;
  }

  private enqueue(item: T, mapped: boolean): Promise<unknown> {
    const { maxQueued, maxBatchBytes, sizeOf, orderKey, timeoutMs } = this.options;
    if (this.closed) return this.refuse(item, mapped, this.closedError());
    if (this.queue.length >= maxQueued || this.waiting.length > 0) return this.refuse(item, mapped, this.queueFull());
    let size: number | undefined;
    if (!this.options.sizeAhead) {
      try {
        size = sizeOf ? sizeOf(item) : 0;
      } catch (error) {
        return this.refuse(item, mapped, error);
      }
      if (maxBatchBytes !== undefined && size > maxBatchBytes) return this.refuse(item, mapped, this.tooLarge(size, maxBatchBytes));
    }
    return new Promise<R>((resolve, reject) => {
      const entry = this.entry(item, size, orderKey?.(item), Date.now() + timeoutMs, resolve, reject);
      entry.mapped = mapped;
      this.queue.push(entry);
      this.schedule();
    });
  }

  /** An entry refused before it was queued: rejected at once (through mapError when mapped). */
  private refuse(item: T, mapped: boolean, error: unknown): Promise<never> {
    return Promise.reject(mapped ? this.mappedError(item, error) : error);
  }

  private mappedError(item: T, error: unknown): unknown {
    return this.options.mapError ? this.options.mapError(item, error) : error;
  }

  /** Resolves an entry (once) with its value, through mapValue when mapped. */
  private resolveEntry(entry: Entry<T, R>, value: R): void {
    entry.settled = true;
    const { mapValue } = this.options;
    if (!entry.mapped || mapValue === undefined) {
      entry.resolve(value);
      return;
    }
    // A mapper that throws (a value it cannot read) fails this entry alone: it never escapes into
    // the batch's run, where it would be an unhandled rejection and leave the rest unsettled.
    let result: unknown;
    try {
      result = mapValue(entry.item, value);
    } catch (error) {
      entry.reject(this.mappedError(entry.item, toPublishError(this.options.backend, error)));
      return;
    }
    entry.resolve(result as R);
  }

  /** Rejects an entry (once) with `error`, through mapError when mapped. */
  private rejectEntry(entry: Entry<T, R>, error: unknown): void {
    entry.settled = true;
    entry.reject(entry.mapped ? this.mappedError(entry.item, error) : error);
  }

  /**
   * One outcome per item, in order, each settled within `timeoutMs`. A caller's batch may be larger
   * than `maxQueued`: what fits is queued now and the rest waits (held by this call, not by the queue)
   * for room as batches go out, so a healthy broker works through it. With no room at all every item
   * fails at once with QUEUE_FULL (`sent: false`), as add() does.
   */
  addAll(items: readonly T[]): Promise<ItemOutcome<R>[]> {
    const { maxQueued, maxBatchBytes, sizeOf, orderKey, timeoutMs } = this.options;
    if (items.length === 0) return Promise.resolve([]);
    if (this.closed) return Promise.resolve(items.map(() => ({ ok: false, error: this.closedError() })));
    if (this.queue.length >= maxQueued || this.waiting.length > 0) {
      const error = this.queueFull();
      return Promise.resolve(items.map(() => ({ ok: false, error })));
    }
    const deadline = Date.now() + timeoutMs;
    const outcomes = items.map((item) => {
      let size: number | undefined;
      if (!this.options.sizeAhead) {
        try {
          size = sizeOf ? sizeOf(item) : 0;
        } catch (error) {
          return Promise.resolve<ItemOutcome<R>>({ ok: false, error });
        }
        if (maxBatchBytes !== undefined && size > maxBatchBytes) {
          return Promise.resolve<ItemOutcome<R>>({ ok: false, error: this.tooLarge(size, maxBatchBytes) });
        }
      }
      return new Promise<R>((resolve, reject) => {
        const entry = this.entry(item, size, orderKey?.(item), deadline, resolve, reject);
        if (this.queue.length < maxQueued) this.queue.push(entry);
        else this.waiting.push(entry);
      }).then(
        (value): ItemOutcome<R> => ({ ok: true, value }),
        (error): ItemOutcome<R> => ({ ok: false, error }),
      );
    });
    this.schedule();
    return Promise.all(outcomes);
  }

  /**
   * Resolves when every entry accepted before this call has settled (sent, failed or timed out);
   * entries added later do not hold it, so it resolves under continuous publishing too. Sends queued
   * entries without lingering.
   */
  flush(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.flushWaiters.push({ upTo: this.nextSeq, resolve });
      this.dispatch(true);
      this.notifyFlushed();
    });
  }

  /** Rejects new entries, then flushes the rest. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    clearTimeout(this.lingerTimer);
    clearInterval(this.sweepTimer);
  }

  private entry(
    item: T,
    size: number | undefined,
    key: string | undefined,
    deadline: number,
    resolve: (value: R) => void,
    reject: (error: unknown) => void,
  ): Entry<T, R> {
    return { item, size, key, deadline, seq: this.nextSeq++, settled: false, failed: false, mapped: false, resolve, reject };
  }

  private closedError(): PublishError {
    return publisherClosedError(this.options.backend);
  }

  private queueFull(): PublishError {
    const { backend, maxQueued, maxQueuedName } = this.options;
    return queueFullError({
      backend,
      limit: maxQueued,
      waitingFor: "broker",
      fix: `raise ${maxQueuedName ?? "the queue limit"} or slow down`,
    });
  }

  /** Rejects an entry once; marks it failed so later entries of its key do not overtake its retry. */
  private fail(entry: Entry<T, R>, error: unknown): void {
    if (entry.settled) return;
    entry.failed = true;
    entry.error = error;
    this.rejectEntry(entry, error);
  }

  /** addAll's waiting entries move into the queue as room frees, in order, before any later add(). */
  private refill(): boolean {
    if (this.waiting.length === 0) return false;
    const room = this.options.maxQueued - this.queue.length;
    if (room <= 0) return false;
    const moved = this.waiting.splice(0, room).filter((e) => !e.settled);
    for (const entry of moved) this.queue.push(entry);
    return moved.length > 0;
  }

  /**
   * Entries of `failedKeys` still queued (or waiting for room) were accepted after the failed one:
   * sending them now would put them ahead of its retry. They fail too, unsent, so the caller retries
   * them after it, in order.
   */
  private failFollowers(failedKeys: ReadonlyMap<string, unknown>): void {
    if (failedKeys.size === 0) return;
    const { backend } = this.options;
    let removed = false;
    for (const list of [this.queue, this.waiting]) {
      for (const entry of list) {
        if (entry.settled || entry.key === undefined || !failedKeys.has(entry.key)) continue;
        removed = true;
        this.fail(
          entry,
          new PublishError({
            backend,
            code: "PUBLISH_FAILED",
            message: `[${backend}] not sent: an earlier event of the same key failed, and sending this one first would break the key's order — retry it after that one`,
            sent: false,
            cause: failedKeys.get(entry.key),
          }),
        );
      }
    }
    if (removed) {
      this.queue = this.queue.filter((e) => !e.settled);
      this.waiting = this.waiting.filter((e) => !e.settled);
      this.refill();
    }
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
      if (batch.length === 0) break;
      void this.run(batch);
    }
    this.notifyFlushed();
  }

  private tooLarge(size: number, limit: number): PublishError {
    return eventTooLargeError({ backend: this.options.backend, size, limit });
  }

  /** The entry's size, measured now if it was not yet; false when it is over the limit (then rejected). */
  private measure(entry: Entry<T, R>): number | false {
    if (entry.size === undefined) {
      const { sizeOf, maxBatchBytes } = this.options;
      // Refused for itself (no broker ever saw it): later entries of its key are not held back by it.
      try {
        entry.size = sizeOf ? sizeOf(entry.item) : 0;
      } catch (error) {
        this.rejectEntry(entry, error);
        return false;
      }
      if (maxBatchBytes !== undefined && entry.size > maxBatchBytes) {
        this.rejectEntry(entry, this.tooLarge(entry.size, maxBatchBytes));
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
      // The lookups only when there is something to find: no batch in flight (always so with one in
      // flight at most) and none held back leaves only oneItemPerKey's own keys.
      if (
        entry.key !== undefined &&
        (this.inFlightKeys.size > 0 || heldKeys.size > 0 || batchKeys !== undefined) &&
        (this.inFlightKeys.has(entry.key) || heldKeys.has(entry.key) || batchKeys?.has(entry.key))
      ) {
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
    // splice(0, i) moves what is left down in place (no new array, no garbage), where slice(i)
    // allocated a new array of every entry still queued on each take. Both are linear in what is
    // queued: a long backlog still costs in proportion to its square, with a smaller constant.
    if (left.length === 0) this.queue.splice(0, i);
    else this.queue = left.concat(this.queue.slice(i));
    this.refill();
    this.countKeys(batch, 1);
    return batch;
  }

  /**
   * The keys of a batch going out (+1) or answered (-1) in inFlightKeys. With one batch in flight at
   * most, no batch is ever formed beside another: nothing is counted, so take() looks nothing up.
   */
  private countKeys(batch: readonly Entry<T, R>[], delta: 1 | -1): void {
    if (this.maxInFlight <= 1) return;
    for (const entry of batch) {
      if (entry.key === undefined) continue;
      const n = (this.inFlightKeys.get(entry.key) ?? 0) + delta;
      if (n <= 0) this.inFlightKeys.delete(entry.key);
      else this.inFlightKeys.set(entry.key, n);
    }
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
          this.answerFailed(entry, new PublishError({ backend, message: `[${backend}] the broker returned no result for this event` }));
        else if (outcome.ok) {
          if (!entry.settled) this.resolveEntry(entry, outcome.value);
        } else this.answerFailed(entry, outcome.error);
      });
    } catch (error) {
      for (const entry of batch) this.answerFailed(entry, error);
    } finally {
      // Before anything else is dispatched: the failed keys' queued entries must not go out now.
      const failedKeys = new Map<string, unknown>();
      for (const entry of batch)
        if (entry.failed && entry.key !== undefined && !failedKeys.has(entry.key)) failedKeys.set(entry.key, entry.error);
      this.failFollowers(failedKeys);
      this.inFlight.delete(batch);
      this.countKeys(batch, -1);
      // Whatever queued up meanwhile goes now: the round trip we just waited for was the linger.
      this.dispatch(true);
    }
  }

  /** An in-flight entry's failure (once: a timed-out one was settled by the sweep already), whatever the reason — `undefined` too. */
  private answerFailed(entry: Entry<T, R>, error: unknown): void {
    if (entry.settled) return;
    const normalized = toPublishError(this.options.backend, error);
    entry.failed = true;
    entry.error = normalized;
    this.rejectEntry(entry, normalized);
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
    const notSent = () =>
      new PublishError({
        backend,
        code: "PUBLISH_TIMEOUT",
        message: `[${backend}] not sent within ${timeoutMs} ms (the broker is slow or unreachable); the event was dropped before sending`,
        sent: false,
      });
    const failedKeys = new Map<string, unknown>();
    let expiredQueued = false;
    for (const list of [this.queue, this.waiting]) {
      for (const entry of list) {
        if (entry.deadline > now) break; // each list is in deadline order
        if (entry.settled) continue;
        expiredQueued = true;
        const error = notSent();
        this.fail(entry, error);
        if (entry.key !== undefined && !failedKeys.has(entry.key)) failedKeys.set(entry.key, error);
      }
    }
    if (expiredQueued) {
      this.queue = this.queue.filter((e) => !e.settled);
      this.waiting = this.waiting.filter((e) => !e.settled);
    }
    for (const batch of this.inFlight) {
      for (const entry of batch) {
        if (entry.settled || entry.deadline > now) continue;
        const error = new PublishError({
          backend,
          code: "PUBLISH_TIMEOUT",
          message: `[${backend}] no broker confirmation within ${timeoutMs} ms; the event may or may not have been stored`,
          sent: "unknown",
        });
        this.fail(entry, error);
        if (entry.key !== undefined && !failedKeys.has(entry.key)) failedKeys.set(entry.key, error);
      }
    }
    this.failFollowers(failedKeys);
    if (this.refill()) this.schedule();
    if (this.pending === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
    this.notifyFlushed();
  }

  /** Resolves the flush() calls whose entries (those accepted before each call) have all settled. */
  private notifyFlushed(): void {
    if (this.flushWaiters.length === 0) return;
    const oldest = this.oldestUnsettled();
    const ready = this.flushWaiters.filter((w) => w.upTo <= oldest);
    if (ready.length === 0) return;
    this.flushWaiters = this.flushWaiters.filter((w) => w.upTo > oldest);
    for (const w of ready) w.resolve();
  }

  /** The seq of the oldest entry not yet settled; nextSeq when there is none. */
  private oldestUnsettled(): number {
    let oldest = this.nextSeq;
    // The queue and the waiting list are in seq order: their first unsettled entry is their oldest.
    for (const list of [this.queue, this.waiting]) {
      const first = list.find((e) => !e.settled);
      if (first && first.seq < oldest) oldest = first.seq;
    }
    for (const batch of this.inFlight) for (const e of batch) if (!e.settled && e.seq < oldest) oldest = e.seq;
    return oldest;
  }
}
