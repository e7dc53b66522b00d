// The API through a real server (the whole container on the embedded default: SQLite file in a temp
// folder, in-memory backend, in-process relay, live view). Bad bodies must leave no row, no outbox
// entry and no published event behind.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@kaireon/events-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Container, startDemo } from "../../src/container.js";

let demo: Container;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "kaireon-demo-routes-"));
  demo = await startDemo(
    { PORT: "0", DEMO_DATA_DIR: dataDir, DEMO_BODY_LIMIT: "4096", EVENT_PUBLISHER: "memory" },
    { logger: silentLogger, tail: () => {} },
  );
});

afterAll(async () => {
  await demo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function post(path: string, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) {
  return fetch(`${demo.url}${path}`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}

const goodRespond = {
  tenantId: "t1",
  customerId: "c1",
  offerId: "offer-1",
  channelId: "web",
  interactionType: "click",
};

async function expectNothingWritten() {
  // Give a relay tick the chance to publish anything it (wrongly) had.
  await demo.publisher!.flush();
  expect(await demo.store.counts()).toEqual({ interactions: 0, decisions: 0, behaviourEvents: 0, outbox: 0 });
  expect(demo.publisher!.metrics().published).toBe(0);
  expect(demo.liveView?.snapshot().counts).toEqual({ "interaction.recorded.v1": 0, "decision.made.v1": 0 });
}

describe("bad bodies: 400 with the field path, nothing stored or published", () => {
  const cases: Array<[string, string, unknown, string]> = [
    ["missing field", "/api/v1/respond", { ...goodRespond, offerId: undefined }, "offerId"],
    ["wrong type", "/api/v1/respond", { ...goodRespond, tenantId: 42 }, "tenantId"],
    ["empty id", "/api/v1/respond", { ...goodRespond, customerId: "  " }, "customerId"],
    ["value not in the enum", "/api/v1/respond", { ...goodRespond, interactionType: "hover" }, "interactionType"],
    ["unknown field", "/api/v1/respond", { ...goodRespond, offerID: "typo" }, "offerID"],
    ["bad date-time", "/api/v1/respond", { ...goodRespond, timestamp: "yesterday" }, "timestamp"],
    ["date that does not exist", "/api/v1/respond", { ...goodRespond, timestamp: "2025-02-31T10:00:00Z" }, "timestamp"],
    ["id too long", "/api/v1/respond", { ...goodRespond, offerId: "x".repeat(300) }, "offerId"],
    ["array instead of object", "/api/v1/respond", [goodRespond], "(body)"],
    ["null body", "/api/v1/respond", null, "(body)"],
    ["number out of range", "/api/v1/recommend", { tenantId: "t1", customerId: "c1", limit: 11 }, "limit"],
    ["non-integer", "/api/v1/recommend", { tenantId: "t1", customerId: "c1", limit: 1.5 }, "limit"],
    [
      "nested bad value",
      "/api/v1/events",
      { tenantId: "t1", customerId: "c1", eventType: "page_view", properties: { cart: { a: 1 } } },
      "properties.cart",
    ],
    ["bad event name", "/api/v1/events", { tenantId: "t1", customerId: "c1", eventType: "Page View" }, "eventType"],
  ];

  it.each(cases)("%s: POST %s → 400 naming the field", async (_kind, path, body, field) => {
    const res = await post(path, body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: string; issues: Array<{ path: string }> };
    expect(json.error).toBe("VALIDATION_FAILED");
    expect(json.issues.map((i) => i.path)).toContain(field === "(body)" ? "(body)" : field);
  });

  it("malformed JSON → 400", async () => {
    const res = await post("/api/v1/respond", '{"tenantId": "t1",');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("MALFORMED_BODY");
  });

  it("a body that is not JSON → 415", async () => {
    const res = await post("/api/v1/respond", "tenantId=t1", { "content-type": "application/x-www-form-urlencoded" });
    expect(res.status).toBe(415);
  });

  it("a body over the limit → 413", async () => {
    const res = await post("/api/v1/events", {
      tenantId: "t1",
      customerId: "c1",
      eventType: "page_view",
      properties: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, "v".repeat(1000)])),
    });
    expect(res.status).toBe(413);
  });

  it("a chunked body over the limit (no content-length) → 413", async () => {
    const big = JSON.stringify({ ...goodRespond, offerId: "y".repeat(10_000) });
    const res = await fetch(`${demo.url}/api/v1/respond`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(big));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it("left nothing behind", async () => {
    await expectNothingWritten();
  });
});

describe("routes", () => {
  it("unknown route → 404 JSON", async () => {
    const res = await fetch(`${demo.url}/api/v1/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe("NOT_FOUND");
    expect((await post("/api/v2/respond", goodRespond)).status).toBe(404);
  });

  it("GET /health", async () => {
    const res = await fetch(`${demo.url}/health`);
    expect(res.status).toBe(200);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toMatchObject({ status: "ok", store: "sqlite", backend: "memory", publisher: { ready: true } });
  });

  it("POST /api/v1/events stores the behaviour event and does not feed the stream", async () => {
    const res = await post("/api/v1/events", { tenantId: "t1", customerId: "c1", eventType: "page_view", properties: { path: "/cards" } });
    expect(res.status).toBe(202);
    await demo.publisher!.flush();
    const counts = await demo.store.counts();
    expect(counts.behaviourEvents).toBe(1);
    expect(counts.outbox).toBe(0);
    expect(demo.publisher!.metrics().published).toBe(0);
  });

  it("POST /api/v1/recommend is deterministic and publishes decision.made.v1", async () => {
    const body = { tenantId: "t1", customerId: "c42", channelId: "web", limit: 3 };
    const a = (await (await post("/api/v1/recommend", body)).json()) as any;
    const b = (await (await post("/api/v1/recommend", body)).json()) as any;
    expect(a.decision.offers).toHaveLength(3);
    expect(a.decision.offers.map((o: any) => o.offerId)).toEqual(b.decision.offers.map((o: any) => o.offerId));
    expect(a.decision.topOfferId).toBe(a.decision.offers[0].offerId);
    expect(a.decision.topPropensity).toBe(a.decision.offers[0].propensity);
    expect(a.decision.recommendationId).not.toBe(b.decision.recommendationId);
    await expect.poll(() => demo.liveView?.snapshot().counts["decision.made.v1"], { timeout: 10_000 }).toBe(2);
    const seen = demo.liveView!.snapshot().recent.find((e) => e.id === a.decision.eventId);
    expect(seen?.data).toMatchObject({ recommendationId: a.decision.recommendationId, offersReturned: 3, decisionFlowKey: "default-flow" });
  });

  it("POST /api/v1/respond stores the row and the published event equals it", async () => {
    const res = await post("/api/v1/respond", { ...goodRespond, creativeId: "cr-1", recommendationId: "rec-1" });
    expect(res.status).toBe(201);
    const { interaction } = (await res.json()) as any;
    const stored = await demo.store.getInteraction(interaction.interactionId);
    expect(stored).toEqual(interaction);
    await expect.poll(() => demo.liveView?.snapshot().recent.some((e) => e.id === interaction.eventId), { timeout: 10_000 }).toBe(true);
    const event = demo.liveView!.snapshot().recent.find((e) => e.id === interaction.eventId)!;
    const { interactionId: _id, eventId: _eid, ...payload } = stored!;
    expect(event.data).toEqual(payload);
    expect(payload).toMatchObject({ outcomeTypeKey: "click", campaignId: null, creativeId: "cr-1" });
  });
});
