// A relay in another process than the app on one SQLite file (here: another connection, which is
// what SQLite sees of another process): with watchCommitsMs it is woken by the app's commits through
// PRAGMA data_version, so an idle relay sends a new row at once instead of at its next poll.
import type { DomainEvent } from "@kaireon/events-core";
import { afterEach, expect, it } from "vitest";
import { createSqliteOutbox, type OutboxRelay } from "../../src/index.js";
import { makeEvent, memoryRelay, sqliteConnections, until } from "../support/outbox-suite.js";

let relay: OutboxRelay | undefined;
const sqlite = sqliteConnections();
afterEach(async () => {
  await relay?.stop();
  sqlite.close();
});

it("watchCommitsMs: another connection's commit wakes an idle relay long before its poll", async () => {
  const file = sqlite.file();
  const appDb = sqlite.open(file);
  const app = createSqliteOutbox({ db: appDb });
  await app.migrate();
  const relayStore = createSqliteOutbox({ db: sqlite.open(file), watchCommitsMs: 2 });
  const delivered: DomainEvent[] = [];
  // A poll and a linger far longer than the deadline below: only the watch can wake it in time.
  relay = memoryRelay(relayStore, delivered, {
    pollIntervalMs: 600_000,
    lingerMs: 60_000,
  });
  await relay.start();
  await until("the relay asleep", async () => (await relay!.metrics()).state === "waiting", 10_000);
  for (let i = 1; i <= 3; i++) {
    appDb.transaction(() => app.enqueue(appDb, makeEvent(`k-${i}`)))();
    await until(`event ${i}`, () => delivered.length === i, 20_000);
  }
});

it("watchCommitsMs must be a whole number of ms ≥ 1", () => {
  expect(() => createSqliteOutbox({ db: {} as never, watchCommitsMs: 0 })).toThrow(/watchCommitsMs/);
  expect(() => createSqliteOutbox({ db: {} as never, watchCommitsMs: 1.5 })).toThrow(/watchCommitsMs/);
});
