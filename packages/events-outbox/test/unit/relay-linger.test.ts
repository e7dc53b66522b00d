// The adaptive linger, step by step on a fake clock: an idle relay claims a new row at once, whatever
// lingerMs says; after a batch during which rows were committed it waits lingerMs and rows committed
// meanwhile join the next claim; a batch with no row committed meanwhile makes it idle again. The
// publisher is a stand-in whose sends finish when the test says: no real broker holds a send open on
// demand, and the fake clock is what lets the test step through the linger.

import { MemoryBus, MemoryPublisher, silentLogger } from "@kaireon/events-core";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createOutboxRelay, createSqliteOutbox, type OutboxRelay } from "../../src/index.js";
import { GatedPublisher, makeEvent, recordBus } from "../support/outbox-suite.js";

/** Lets the relay's microtasks and setImmediate turns run (neither is faked). */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe("relay linger (fake clock)", () => {
  let db: Database.Database;
  let relay: OutboxRelay | undefined;
  const sizes: number[] = [];

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    sizes.length = 0;
  });
  afterEach(async () => {
    vi.useRealTimers();
    await relay?.stop();
    db.close();
  });

  async function start(lingerMs: number) {
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    const bus = new MemoryBus(0);
    const delivered = recordBus(bus);
    const gated = new GatedPublisher(new MemoryPublisher({ bus, logger: silentLogger }));
    const inner = gated.asPublisher();
    const publisher = new Proxy(inner, {
      get: (target, prop, receiver) =>
        prop === "publishBatch"
          ? (events: Parameters<typeof inner.publishBatch>[0]) => {
              sizes.push(events.length);
              return target.publishBatch(events);
            }
          : Reflect.get(target, prop, receiver),
    });
    relay = createOutboxRelay({ store, publisher, logger: silentLogger, lingerMs, pollIntervalMs: 600_000, retention: false });
    await relay.start();
    await settle();
    const commit = (key: string) => db.transaction(() => store.enqueue(db, makeEvent(key)))();
    return { gated, delivered, commit, relay };
  }

  it("idle: a lone row goes at once, with no time passing, however long lingerMs is", async () => {
    const { delivered, commit, relay } = await start(50);
    expect((await relay.metrics()).state).toBe("waiting");
    commit("k-1");
    await settle();
    expect(sizes).toEqual([1]);
    expect(delivered).toHaveLength(1);
    // Idle again: the next lone row goes at once too.
    commit("k-2");
    await settle();
    expect(sizes).toEqual([1, 1]);
  });

  it("busy: after a batch during which rows arrived it lingers lingerMs, and rows committed meanwhile join", async () => {
    const { gated, delivered, commit, relay } = await start(50);
    gated.hold();
    commit("k-1");
    await settle();
    expect(sizes).toEqual([1]); // in flight, held
    commit("k-2");
    commit("k-3");
    await settle(); // their wake-up arrives while the batch is out
    gated.release();
    await settle();
    expect((await relay.metrics()).state).toBe("lingering");
    commit("k-4");
    commit("k-5");
    await settle();
    expect(sizes).toEqual([1]);
    vi.advanceTimersByTime(49);
    await settle();
    expect(sizes).toEqual([1]); // still lingering
    vi.advanceTimersByTime(1);
    await settle();
    expect(sizes).toEqual([1, 4]);
    expect(delivered).toHaveLength(5);
  });

  it("a batch with no row committed while it was out makes the relay idle again: the next lone row goes at once", async () => {
    const { gated, commit, relay } = await start(50);
    gated.hold();
    commit("k-1");
    await settle();
    commit("k-2");
    await settle();
    gated.release();
    await settle();
    vi.advanceTimersByTime(50); // the busy linger
    await settle();
    expect(sizes).toEqual([1, 1]); // k-2 went after the linger, and nothing arrived meanwhile
    expect((await relay.metrics()).state).toBe("waiting");
    commit("k-3");
    await settle();
    expect(sizes).toEqual([1, 1, 1]); // at once, no time passed
  });

  it("lingerMs 0: a busy relay claims at once; the batch in flight is the only wait", async () => {
    const { gated, commit } = await start(0);
    gated.hold();
    commit("k-1");
    await settle();
    commit("k-2");
    commit("k-3");
    await settle();
    gated.release();
    await settle();
    expect(sizes).toEqual([1, 2]);
  });

  it("a full batch is followed by the next claim at once, without a linger", async () => {
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    const bus = new MemoryBus(0);
    const delivered = recordBus(bus);
    relay = createOutboxRelay({
      store,
      publisher: new MemoryPublisher({ bus, logger: silentLogger }),
      logger: silentLogger,
      lingerMs: 50,
      batchSize: 3,
      pollIntervalMs: 600_000,
      retention: false,
    });
    db.transaction(() => store.enqueue(db, [makeEvent("a"), makeEvent("b"), makeEvent("c"), makeEvent("d"), makeEvent("e")]))();
    await relay.start();
    await settle();
    expect(delivered).toHaveLength(5);
  });
});
