// The bound on the relay's waits for PostgreSQL (queryTimeoutMs), with a pool whose server never
// answers — what a half-open connection looks like to pg (the integration test,
// postgres-outbox-wire.test.ts, does it with a real server behind a real silent socket). Fake timers:
// no test here waits for the bound in real time.
import type { EventsError } from "@kaireon/events-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createPostgresOutbox, type PgClientLike, type PgPoolLike } from "../../src/index.js";

/** A pool whose clients accept every query and never answer; records how each was released. */
function silentPool(options: { connect?: "never" } = {}) {
  const released: Array<boolean | Error | undefined> = [];
  const client: PgClientLike = {
    query: () => new Promise(() => {}),
    release: (destroy) => void released.push(destroy),
    on: () => client,
    removeListener: () => client,
    removeAllListeners: () => client,
  };
  const pool: PgPoolLike = {
    connect: () => (options.connect === "never" ? new Promise(() => {}) : Promise.resolve(client)),
    query: () => new Promise(() => {}),
  };
  return { pool, released };
}

afterEach(() => vi.useRealTimers());

async function rejection(promise: Promise<unknown>, ms: number): Promise<EventsError> {
  const settled = promise.then(
    () => {
      throw new Error("resolved");
    },
    (e: unknown) => e as EventsError,
  );
  await vi.advanceTimersByTimeAsync(ms);
  return settled;
}

describe("PostgreSQL outbox: queryTimeoutMs bounds every wait of the relay", { timeout: 10_000 }, () => {
  it("a claim whose statement is never answered fails with CONNECTION_FAILED at the bound, and its session is destroyed", async () => {
    vi.useFakeTimers();
    const { pool, released } = silentPool();
    const store = createPostgresOutbox({ pool, queryTimeoutMs: 5_000 });
    const error = await rejection(store.claim(10), 5_000);
    expect(error).toMatchObject({ code: "CONNECTION_FAILED", backend: "outbox" });
    expect(error.message).toContain("queryTimeoutMs");
    // Destroyed (an Error), never handed back to the pool for reuse.
    expect(released).toHaveLength(1);
    expect(released[0]).toBeInstanceOf(Error);
  });

  it("a pool that never hands out a connection: the claim and the stats fail at the bound", async () => {
    vi.useFakeTimers();
    const { pool } = silentPool({ connect: "never" });
    const store = createPostgresOutbox({ pool, queryTimeoutMs: 3_000 });
    expect((await rejection(store.claim(10), 3_000)).code).toBe("CONNECTION_FAILED");
    expect((await rejection(store.stats(), 3_000)).code).toBe("CONNECTION_FAILED");
    expect((await rejection(store.nextDueInMs(), 3_000)).code).toBe("CONNECTION_FAILED");
  });

  it("queryTimeoutMs below 1 ms is a ConfigError naming it", () => {
    const { pool } = silentPool();
    expect(() => createPostgresOutbox({ pool, queryTimeoutMs: 0 })).toThrow(/queryTimeoutMs/);
  });
});
