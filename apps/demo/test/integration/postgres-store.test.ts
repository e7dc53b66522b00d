// The store on a real PostgreSQL (DATABASE_URL, started by tooling/services/postgres.sh): the row and
// its outbox entry commit together or not at all, and the whole demo runs on it end to end.
// Counts are compared as differences: the database may hold rows of earlier runs.

import { createEvent, type DomainEvent, type InteractionRecordedV1, silentLogger, uuidv7 } from "@kaireon/events-core";
import { requireService } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Container, startDemo } from "../../src/container.js";
import { openStore } from "../../src/database.js";
import type { DemoStore } from "../../src/store.js";

let url: string;
let store: DemoStore;

beforeAll(async () => {
  url = await requireService({ variable: "DATABASE_URL", name: "PostgreSQL server" });
  ({ store } = await openStore({ DATABASE_URL: url, DEMO_DATA_DIR: "unused" }));
});

afterAll(async () => {
  await store?.close();
});

const data = (): InteractionRecordedV1 => ({
  tenantId: "t1",
  customerId: `c-${uuidv7()}`,
  offerId: "o1",
  creativeId: null,
  channelId: "web",
  interactionType: "click",
  outcomeTypeKey: "click",
  campaignId: null,
  recommendationId: null,
  timestamp: new Date().toISOString(),
});

describe("postgres store", () => {
  it("commits the row and its outbox entry together", async () => {
    const before = await store.counts();
    const d = data();
    const row = await store.recordInteraction({ interactionId: uuidv7(), ...d }, createEvent("interaction.recorded.v1", d));
    const after = await store.counts();
    expect(after.interactions - before.interactions).toBe(1);
    expect(after.outbox - before.outbox).toBe(1);
    expect(await store.getInteraction(row.interactionId)).toEqual(row);
  });

  it("rolls the row back when the outbox refuses the event", async () => {
    const before = await store.counts();
    const d = data();
    // An event whose payload breaks the topic schema: the outbox validates and throws inside the transaction.
    const bad = { ...createEvent("interaction.recorded.v1", d), data: { ...d, interactionType: "hover" } } as unknown as DomainEvent;
    await expect(store.recordInteraction({ interactionId: uuidv7(), ...d }, bad)).rejects.toThrow();
    const after = await store.counts();
    expect(after.interactions).toBe(before.interactions);
    expect(after.outbox).toBe(before.outbox);
  });
});

describe("the demo on PostgreSQL", () => {
  let demo: Container;
  beforeAll(async () => {
    demo = await startDemo({ PORT: "0", DATABASE_URL: url, EVENT_PUBLISHER: "memory" }, { logger: silentLogger, tail: () => {} });
  });
  afterAll(async () => {
    await demo?.stop();
  });

  it("respond → the event on the stream equals the row stored in PostgreSQL", async () => {
    const res = await fetch(`${demo.url}/api/v1/respond`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenantId: "t1", customerId: "pg-1", offerId: "o1", channelId: "web", interactionType: "impression" }),
    });
    expect(res.status).toBe(201);
    const { interaction } = (await res.json()) as { interaction: { interactionId: string; eventId: string } };
    await expect.poll(() => demo.liveView?.snapshot().recent.some((e) => e.id === interaction.eventId), { timeout: 15_000 }).toBe(true);
    const stored = (await demo.store.getInteraction(interaction.interactionId))!;
    const { interactionId: _i, eventId, ...payload } = stored;
    expect(eventId).toBe(interaction.eventId);
    expect(demo.liveView!.snapshot().recent.find((e) => e.id === eventId)?.data).toEqual(payload);
  });
});
