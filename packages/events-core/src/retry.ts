// Exponential backoff with full jitter (delay = random(0, min(max, base·2^attempt))), the scheme AWS
// recommends for retrying throttled calls: retries from many clients spread out instead of aligning.

export interface BackoffOptions {
  /** First retry waits up to this long. */
  baseMs: number;
  /** No wait is longer than this. */
  maxMs: number;
}

export function backoffDelay(attempt: number, { baseMs, maxMs }: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
