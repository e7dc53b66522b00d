// onIdle: the relay says when it has nothing left to send and is about to sleep (true), and when it
// goes back to work (false) — what an application whose relay is on another thread needs to send a
// wake-up only to a sleeping relay.
import type { DomainEvent } from "@kaireon/events-core";
import { afterEach, expect, it } from "vitest";
import { createSqliteOutbox, type OutboxRelay } from "../../src/index.js";
import { makeEvent, memoryRelay, sqliteConnections, until } from "../support/outbox-suite.js";

let relay: OutboxRelay | undefined;
const sqlite = sqliteConnections();
afterEach(async () => {
  await relay?.stop();
  relay = undefined;
  sqlite.close();
});

it("onIdle(true) before the relay sleeps, onIdle(false) once a wake-up sets it to work", async () => {
  const db = sqlite.open();
  const outbox = createSqliteOutbox({ db });
  const delivered: DomainEvent[] = [];
  const said: boolean[] = [];
  relay = memoryRelay(outbox, delivered, { pollIntervalMs: 600_000, onIdle: (idle) => said.push(idle) });
  await relay.start();
  await until("the relay asleep", async () => (await relay!.metrics()).state === "waiting", 10_000);
  expect(said).toEqual([true]);
  db.transaction(() => outbox.enqueue(db, makeEvent("k-1")))();
  await until("the event", () => delivered.length === 1, 10_000);
  await until("asleep again", async () => (await relay!.metrics()).state === "waiting", 10_000);
  expect(said).toEqual([true, false, true]);
});

it("an onIdle that throws does not stop the relay", async () => {
  const db = sqlite.open();
  const outbox = createSqliteOutbox({ db });
  const delivered: DomainEvent[] = [];
  relay = memoryRelay(outbox, delivered, {
    onIdle: () => {
      throw new Error("a faulty hook");
    },
  });
  await relay.start();
  for (let i = 1; i <= 3; i++) {
    db.transaction(() => outbox.enqueue(db, makeEvent(`k-${i}`)))();
    await until(`event ${i}`, () => delivered.length === i, 10_000);
  }
  expect((await relay.metrics()).storeErrors).toBe(0);
});
