// End to end on the embedded default, as a user runs it: the built server process, SQLite file,
// in-memory backend, in-process relay. POST /api/v1/respond → the event reaches the live stream
// (a subscriber of the backend) equal to the row stored in the database; SIGTERM exits cleanly.

import { afterAll, beforeAll, expect, it } from "vitest";
import { followLiveStream, payloadOf, postJson, type RunningDemo, readInteraction, spawnDemo } from "./e2e-support.js";

let demo: RunningDemo;

beforeAll(async () => {
  demo = await spawnDemo({ EVENT_PUBLISHER: "memory" });
});

afterAll(async () => {
  await demo?.stop();
});

it("respond → event on the stream equal to the stored row; recommend → decision.made.v1", async () => {
  const stream = followLiveStream(demo.url);
  await stream.ready;

  const rec = await postJson(`${demo.url}/api/v1/recommend`, { tenantId: "acme", customerId: "c-9", channelId: "web" });
  expect(rec.status).toBe(201);
  const decision = rec.json.decision;
  const res = await postJson(`${demo.url}/api/v1/respond`, {
    tenantId: "acme",
    customerId: "c-9",
    offerId: decision.topOfferId,
    creativeId: decision.offers[0].creativeId,
    campaignId: decision.offers[0].campaignId,
    recommendationId: decision.recommendationId,
    channelId: "web",
    interactionType: "impression",
    timestamp: "2026-01-02T03:04:05.678+01:00",
  });
  expect(res.status).toBe(201);
  const { interaction } = res.json;

  await expect.poll(() => stream.events.map((e) => e.id), { timeout: 15_000 }).toContain(interaction.eventId);
  const event = stream.events.find((e) => e.id === interaction.eventId)!;
  const stored = readInteraction(demo.dataDir, interaction.interactionId)!;
  expect(stored.eventId).toBe(event.id);
  expect(event.type).toBe("interaction.recorded.v1");
  expect(event.data).toEqual(payloadOf(stored));
  expect(stored.timestamp).toBe("2026-01-02T02:04:05.678Z");

  const decisionEvent = stream.events.find((e) => e.id === decision.eventId);
  expect(decisionEvent?.data).toMatchObject({ recommendationId: decision.recommendationId, topOfferId: decision.topOfferId });
  stream.close();

  // The terminal tail printed both events.
  expect(demo.output()).toContain("interaction.recorded.v1");
  expect(demo.output()).toContain("decision.made.v1");

  // Graceful shutdown on SIGTERM, with the live stream just closed.
  const code = await demo.stop();
  expect(code).toBe(0);
  expect(demo.output()).toContain("[demo] stopped");
});
