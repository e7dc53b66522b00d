// The store writes the row and its outbox entry in one transaction: both or neither.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, type InteractionRecordedV1, uuidv7 } from "@kaireon/events-core";
import { createSqliteOutbox, type SqliteOutbox } from "@kaireon/events-outbox";
import { afterEach, describe, expect, it } from "vitest";
import { OUTBOX_TABLE } from "../../src/database.js";
import { createSqliteStore, openSqlite } from "../../src/sqlite-store.js";
import type { DemoStore } from "../../src/store.js";

const dirs: string[] = [];
const stores: DemoStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(failEnqueue = false) {
  const dir = mkdtempSync(join(tmpdir(), "kaireon-demo-store-"));
  dirs.push(dir);
  const { db, file } = openSqlite(join(dir, "data"));
  const outbox = createSqliteOutbox({ db, table: OUTBOX_TABLE });
  await outbox.migrate();
  const failing: SqliteOutbox = {
    ...outbox,
    enqueue: (tx, event) => {
      outbox.enqueue(tx, event);
      throw new Error("simulated failure after the outbox insert");
    },
  };
  const store = createSqliteStore(db, file, failEnqueue ? failing : outbox);
  stores.push(store);
  return { store, file, outbox };
}

const data: InteractionRecordedV1 = {
  tenantId: "t1",
  customerId: "c1",
  offerId: "o1",
  creativeId: null,
  channelId: "web",
  interactionType: "impression",
  outcomeTypeKey: "impression",
  campaignId: null,
  recommendationId: null,
  timestamp: new Date().toISOString(),
};

describe("sqlite store", () => {
  it("creates the data folder and file on first start", async () => {
    const { file } = await open();
    expect(file).toMatch(/data\/demo\.sqlite$/);
  });

  it("commits the row and its event together", async () => {
    const { store } = await open();
    const event = createEvent("interaction.recorded.v1", data);
    const row = await store.recordInteraction({ interactionId: uuidv7(), ...data }, event);
    expect(row.eventId).toBe(event.id);
    expect(await store.counts()).toMatchObject({ interactions: 1, outbox: 1 });
    expect(await store.getInteraction(row.interactionId)).toEqual(row);
  });

  it("rolls back the row when the outbox write fails (and the outbox entry with it)", async () => {
    const { store } = await open(true);
    const event = createEvent("interaction.recorded.v1", data);
    await expect(store.recordInteraction({ interactionId: uuidv7(), ...data }, event)).rejects.toThrow(/simulated/);
    expect(await store.counts()).toMatchObject({ interactions: 0, outbox: 0 });
  });

  it("rolls back the outbox entry when the row fails (duplicate key)", async () => {
    const { store } = await open();
    const interactionId = uuidv7();
    await store.recordInteraction({ interactionId, ...data }, createEvent("interaction.recorded.v1", data));
    await expect(store.recordInteraction({ interactionId, ...data }, createEvent("interaction.recorded.v1", data))).rejects.toThrow();
    expect(await store.counts()).toMatchObject({ interactions: 1, outbox: 1 });
  });

  it("stores without an event when events are disabled", async () => {
    const { store } = await open();
    const row = await store.recordInteraction({ interactionId: uuidv7(), ...data }, null);
    expect(row.eventId).toBeNull();
    expect(await store.counts()).toMatchObject({ interactions: 1, outbox: 0 });
  });

  it("writes a relay thread's cursor with the next group commit (followRelayCursor) and says so", async () => {
    const { store, outbox } = await open();
    const record = () => store.recordInteraction({ interactionId: uuidv7(), ...data }, createEvent("interaction.recorded.v1", data));
    let wanted: number | undefined;
    const committed: number[] = [];
    store.followRelayCursor?.({ pending: () => wanted, committed: (seq) => committed.push(seq) });
    for (let i = 0; i < 3; i++) await record();
    expect(committed).toEqual([]);
    expect((await outbox.stats()).backlog).toBe(3);
    // The relay thread sent rows 1–2: the next request's commit carries the cursor.
    wanted = 2;
    await record();
    expect(committed).toEqual([2]);
    expect((await outbox.stats()).backlog).toBe(2);
  });
});
