// Batch APIs that answer "200 OK" with some entries failed (EventBridge PutEvents, Kinesis
// PutRecords) need the same loop: send, keep what succeeded, retry only the failed entries that can
// succeed on retry, with backoff and jitter, up to a bound; report the rest per entry. Entries keep
// their relative order in every retry request.

import type { ItemOutcome } from "./batcher.js";
import { EventsError } from "./errors.js";
import { type BackoffOptions, backoffDelay, sleep as defaultSleep } from "./retry.js";

/** A failed entry goes again when `retryable`; unset, when its error says `retryable: true`. */
export type EntryResult<R> = { ok: true; value: R } | { ok: false; error: unknown; retryable?: boolean };

/** `true` only for an EventsError that says a retry can succeed (EventsError.retryable). */
export function isRetryable(error: unknown): boolean {
  return EventsError.isInstance(error) && error.retryable === true;
}

export interface PartialRetryOptions<T, R> {
  /** One request for these entries; one result per entry, in order. */
  attempt: (entries: T[], attemptNumber: number) => Promise<EntryResult<R>[]>;
  /** A thrown request error (network, throttled call) that may succeed if the whole request is retried. Default: never (pass `isRetryable` to follow the error). */
  isRetryableError?: (error: unknown) => boolean;
  /** Total attempts per entry, the first included. */
  maxAttempts: number;
  backoff: BackoffOptions;
  sleep?: (ms: number) => Promise<void>;
  /** Called before each retry with the number of entries retried. */
  onRetry?: (count: number, attemptNumber: number) => void;
}

export async function sendWithPartialRetry<T, R>(entries: readonly T[], options: PartialRetryOptions<T, R>): Promise<ItemOutcome<R>[]> {
  const { attempt, isRetryableError = () => false, maxAttempts, backoff, sleep = defaultSleep, onRetry } = options;
  const outcomes: ItemOutcome<R>[] = new Array(entries.length);
  let pending = entries.map((_, index) => index);
  for (let attemptNumber = 1; pending.length > 0; attemptNumber++) {
    const last = attemptNumber >= maxAttempts;
    let results: EntryResult<R>[];
    try {
      results = await attempt(
        pending.map((i) => entries[i] as T),
        attemptNumber,
      );
    } catch (error) {
      const retryable = isRetryableError(error);
      results = pending.map(() => ({ ok: false, error, retryable }));
    }
    const retry: number[] = [];
    pending.forEach((index, position) => {
      const result = results[position] ?? { ok: false, error: new Error("no result for this entry"), retryable: false };
      if (result.ok) outcomes[index] = { ok: true, value: result.value };
      else if ((result.retryable ?? isRetryable(result.error)) && !last) retry.push(index);
      else outcomes[index] = { ok: false, error: result.error };
    });
    pending = retry;
    if (pending.length > 0) {
      onRetry?.(pending.length, attemptNumber);
      await sleep(backoffDelay(attemptNumber - 1, backoff));
    }
  }
  return outcomes;
}
