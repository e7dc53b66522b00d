// The wait for a consumer's first group join, one for both client seams (kafka-client.ts and
// kafka-client-platformatic.ts): each settles it from its own events. Its own file, not kafka-client.ts,
// because kafka-client.ts imports the platformatic seam, which would close an import cycle.

/** A consumer's first group join, which ConsumerPort.joined waits for; each client settles it from its own events. */
export interface GroupJoin {
  /** The consumer has its partitions: every wait resolves, and so does every later one, at once. */
  joined(): void;
  /** The consumer stopped for good before it joined: every wait rejects with `error`. */
  failed(error: unknown): void;
  /** Resolves at the join; rejects at `failed`, after `timeoutMs`, or when `signal` aborts. */
  waitUntilJoined(timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

export function groupJoin(groupId: string): GroupJoin {
  let done = false;
  const waiters = new Set<{ resolve: () => void; reject: (error: unknown) => void }>();
  return {
    joined() {
      done = true;
      for (const w of waiters) w.resolve();
    },
    failed(error) {
      for (const w of waiters) w.reject(error);
    },
    waitUntilJoined: (timeoutMs, signal) =>
      done
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const waiter = {
              resolve: () => settle(resolve),
              reject: (error: unknown) => settle(() => reject(error)),
            };
            const timer = setTimeout(
              () => waiter.reject(new Error(`consumer group ${groupId} did not join within ${timeoutMs} ms`)),
              timeoutMs,
            );
            const aborted = () => waiter.reject(new Error(`consumer group ${groupId}: closed before it joined`));
            signal?.addEventListener("abort", aborted, { once: true });
            function settle(finish: () => void) {
              if (!waiters.delete(waiter)) return;
              clearTimeout(timer);
              signal?.removeEventListener("abort", aborted);
              finish();
            }
            waiters.add(waiter);
            if (signal?.aborted) aborted();
          }),
  };
}
