// A relay with a connection of its own beside the app's writer (the demo's relay thread), with
// cursorWriter: a batch whose rows were all sent moves the cursor through the app's connection, so
// the relay's connection never takes SQLite's write lock for it (two writers wait for each other in
// SQLite's sleeping busy handler). What else a batch records (a retry) is still written by the relay.
import { type DomainEvent, MemoryBus, MemoryPublisher, type Publisher, type PublishResult, silentLogger } from "@kaireon/events-core";
import type Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { createOutboxRelay, createSqliteOutbox, type OutboxRelay, type SqliteOutbox } from "../../src/index.js";
import { makeEvent, memoryRelay, recordBus, sqliteConnections, until } from "../support/outbox-suite.js";

let relay: OutboxRelay | undefined;
const sqlite = sqliteConnections();
afterEach(async () => {
  await relay?.stop();
  relay = undefined;
  sqlite.close();
});

/** Rows this connection has inserted, updated or deleted since it opened (SQLite's total_changes()). */
const changesBy = (db: Database.Database) => (db.prepare("SELECT total_changes() AS n").get() as { n: number }).n;
const cursorOf = (db: Database.Database) =>
  (db.prepare("SELECT relayed_seq AS seq FROM kaireon_outbox_cursor WHERE id = 1").get() as { seq: number }).seq;

async function setUp(cursorWriter?: (app: SqliteOutbox, appDb: Database.Database, seq: number) => Promise<void>) {
  const file = sqlite.file();
  const appDb = sqlite.open(file);
  const app = createSqliteOutbox({ db: appDb });
  await app.migrate();
  const relayDb = sqlite.open(file);
  const writes: number[] = [];
  const relayStore = createSqliteOutbox({
    db: relayDb,
    cursorWriter: async (seq) => {
      writes.push(seq);
      if (cursorWriter) await cursorWriter(app, appDb, seq);
      else appDb.transaction(() => app.advanceCursor(appDb, seq))();
    },
  });
  return { app, appDb, relayDb, relayStore, writes };
}

/** The customer part of the event's partition key (tenant:customer). */
const keyOf = (e: DomainEvent) => e.partitionkey.split(":").at(-1);
const enqueue = (app: SqliteOutbox, db: Database.Database, events: DomainEvent[]) => db.transaction(() => app.enqueue(db, events))();

it("cursorWriter: sent batches move the cursor on the app's connection; the relay's connection writes nothing", async () => {
  const { app, appDb, relayDb, relayStore, writes } = await setUp();
  const delivered: DomainEvent[] = [];
  relay = memoryRelay(relayStore, delivered, {
    migrate: false,
    batchSize: 3,
  });
  const before = changesBy(relayDb);
  enqueue(app, appDb, [makeEvent("k-1"), makeEvent("k-2"), makeEvent("k-3"), makeEvent("k-4")]);
  expect(await relay.runOnce()).toBe(3);
  // The next claim does not wait for the app's commit of the cursor: it starts after the sent rows.
  expect(await relay.runOnce()).toBe(1);
  expect(await relay.runOnce()).toBe(0);
  expect(delivered.map(keyOf)).toEqual(["k-1", "k-2", "k-3", "k-4"]);
  await until("both cursor writes", () => writes.length === 2, 10_000);
  expect(writes).toEqual([3, 4]);
  expect(cursorOf(appDb)).toBe(4);
  expect(changesBy(relayDb)).toBe(before);
  expect((await relayStore.stats()).backlog).toBe(0);
});

it("cursorWriter: a batch with a failed send is recorded by the relay itself, and the row is retried", async () => {
  const { app, appDb, relayStore, writes } = await setUp();
  const bus = new MemoryBus(0);
  const delivered = recordBus(bus);
  const inner = new MemoryPublisher({ bus, logger: silentLogger });
  let failOnce = true;
  const publisher = new Proxy(inner, {
    get: (target, prop, receiver) =>
      prop === "publishBatch"
        ? async (events: readonly DomainEvent[]): Promise<PromiseSettledResult<PublishResult>[]> => {
            const results = await target.publishBatch(events.filter((e) => !(failOnce && keyOf(e) === "bad")));
            const out = events.map((e) =>
              failOnce && keyOf(e) === "bad"
                ? ({ status: "rejected", reason: new Error("broker said no") } as const)
                : (results.shift() as PromiseSettledResult<PublishResult>),
            );
            failOnce = false;
            return out;
          }
        : Reflect.get(target, prop, receiver),
  }) as Publisher;
  relay = createOutboxRelay({
    store: relayStore,
    publisher,
    logger: silentLogger,
    retention: false,
    migrate: false,
    backoff: { baseMs: 1, maxMs: 1 },
  });
  enqueue(app, appDb, [makeEvent("ok-1"), makeEvent("bad"), makeEvent("ok-2")]);
  expect(await relay.runOnce()).toBe(3);
  // Not only a cursor: the relay wrote the retry row and the cursor in its own transaction.
  expect(writes).toEqual([]);
  expect(cursorOf(appDb)).toBe(3);
  expect(delivered.map(keyOf)).toEqual(["ok-1", "ok-2"]);
  await new Promise((r) => setTimeout(r, 20));
  expect(await relay.runOnce()).toBe(1);
  expect(delivered.map(keyOf)).toEqual(["ok-1", "ok-2", "bad"]);
  expect((await relayStore.stats()).backlog).toBe(0);
  // Back to log rows only: the cursor goes through the writer again.
  enqueue(app, appDb, [makeEvent("ok-3")]);
  expect(await relay.runOnce()).toBe(1);
  await until("the cursor write", () => writes.length === 1, 10_000);
  expect(writes).toEqual([4]);
});

it("cursorWriter: after a failed cursor write the next claim fails (the relay backs off) and the rows are sent again (at least once)", async () => {
  let fail = true;
  const { app, appDb, relayStore } = await setUp(async (outbox, db, seq) => {
    if (fail) {
      fail = false;
      throw new Error("the app's writer is closed");
    }
    db.transaction(() => outbox.advanceCursor(db, seq))();
  });
  const delivered: DomainEvent[] = [];
  relay = memoryRelay(relayStore, delivered, {
    migrate: false,
  });
  enqueue(app, appDb, [makeEvent("k-1"), makeEvent("k-2")]);
  expect(await relay.runOnce()).toBe(2);
  await new Promise((r) => setTimeout(r, 10));
  expect(cursorOf(appDb)).toBe(0);
  await expect(relay.runOnce()).rejects.toThrow(/writer is closed/);
  expect(await relay.runOnce()).toBe(2);
  await until("the cursor", () => cursorOf(appDb) === 2, 10_000);
  expect(delivered.map(keyOf)).toEqual(["k-1", "k-2", "k-1", "k-2"]);
  expect(await relay.runOnce()).toBe(0);
});

it("advanceCursor never moves the cursor back, and refuses a seq that is not a whole number", async () => {
  const { app, appDb } = await setUp();
  enqueue(app, appDb, [makeEvent("k-1"), makeEvent("k-2")]);
  appDb.transaction(() => app.advanceCursor(appDb, 2))();
  appDb.transaction(() => app.advanceCursor(appDb, 1))();
  expect(cursorOf(appDb)).toBe(2);
  expect(() => app.advanceCursor(appDb, 1.5)).toThrow(/advanceCursor was given seq 1.5/);
});
