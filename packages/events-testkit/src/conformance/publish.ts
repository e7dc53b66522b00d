// Publishing: both topics read back equal to what was created, publishEvent keeps the id,
// publishBatch settles each event, schema rejection before any I/O, flush/metrics/readiness, and
// close. Every backend passes these; nothing here is an optional capability.

import { createEvent, type DomainEvent, EventsError } from "@kaireon/events-core";
import { expect, it } from "vitest";
import { sampleDecision, sampleInteraction, uniqueTenant } from "../fixtures.js";
import { bothTopics, type ConformanceHarness } from "./harness.js";

export function publishCases(h: ConformanceHarness): void {
  it("publishes and reads back both topics, equal to what was created", async () => {
    const tenantId = uniqueTenant();
    const { spy } = await h.subscribe(bothTopics);
    const p = await h.publisher();
    const interaction = await p.publish("interaction.recorded.v1", sampleInteraction({ tenantId }));
    const decision = await p.publish("decision.made.v1", sampleDecision({ tenantId }));
    for (const result of [interaction, decision]) {
      expect(result).toMatchObject({ backend: p.backend, status: "published" });
      expect(result.id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const gotInteraction = await spy.waitFor("interaction.recorded.v1", (e) => e.id === interaction.id, h.timeout);
    const gotDecision = await spy.waitFor("decision.made.v1", (e) => e.id === decision.id, h.timeout);
    expect(gotInteraction.data).toEqual(sampleInteraction({ tenantId, timestamp: gotInteraction.data.timestamp }));
    expect(gotInteraction).toMatchObject({
      specversion: "1.0",
      type: "interaction.recorded.v1",
      tenantid: tenantId,
      partitionkey: `${tenantId}:cust-1`,
    });
    expect(gotDecision.data.tenantId).toBe(tenantId);
    if (h.capabilities.receivers) expect(interaction.receivers).toBeGreaterThanOrEqual(1);
  });

  it("publishEvent sends a ready envelope with its own id (an outbox re-send keeps it)", async () => {
    const tenantId = uniqueTenant();
    const { spy } = await h.subscribe(["decision.made.v1"]);
    const p = await h.publisher();
    const event = createEvent("decision.made.v1", sampleDecision({ tenantId }), {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    const result = await p.publishEvent(event);
    expect(result.id).toBe(event.id);
    const received = await spy.waitFor("decision.made.v1", (e) => e.id === event.id, h.timeout);
    expect({ ...received }).toEqual({ ...event });
  });

  it("publishBatch of four times the queue bound publishes every event (the rest waits for room, no QUEUE_FULL)", async () => {
    const tenantId = uniqueTenant();
    const { spy } = await h.subscribe(["decision.made.v1"]);
    const p = await h.options.createQueueBoundPublisher(10);
    h.register(() => p.close());
    const events: DomainEvent[] = Array.from({ length: 40 }, (_, i) =>
      createEvent("decision.made.v1", sampleDecision({ tenantId, customerId: `c${i % 4}`, recommendationId: `r${i}` })),
    );
    const results = await p.publishBatch(events);
    const refused = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as { code?: string }).code] : []));
    expect(refused).toEqual([]);
    const received = await spy.waitForCount(40, (e) => e.tenantid === tenantId, h.timeout);
    expect(new Set(received.map((e) => e.id))).toEqual(new Set(events.map((e) => e.id)));
    expect(p.metrics()).toMatchObject({ published: 40, failed: 0 });
  });

  it("publishBatch sends every event and settles each one", async () => {
    const tenantId = uniqueTenant();
    const { spy } = await h.subscribe(bothTopics);
    const p = await h.publisher();
    const events: DomainEvent[] = Array.from({ length: 50 }, (_, i) =>
      i % 2
        ? createEvent("interaction.recorded.v1", sampleInteraction({ tenantId, customerId: `c${i % 5}`, offerId: `o${i}` }))
        : createEvent("decision.made.v1", sampleDecision({ tenantId, customerId: `c${i % 5}`, recommendationId: `r${i}` })),
    );
    const results = await p.publishBatch(events);
    expect(results.map((r) => r.status)).toEqual(events.map(() => "fulfilled"));
    expect(results.map((r) => (r as PromiseFulfilledResult<{ id: string }>).value.id)).toEqual(events.map((e) => e.id));
    const received = await spy.waitForCount(50, (e) => e.tenantid === tenantId, h.timeout);
    expect(new Set(received.map((e) => e.id))).toEqual(new Set(events.map((e) => e.id)));
  });

  it("rejects an invalid payload before any I/O: nothing reaches the backend", async () => {
    const tenantId = uniqueTenant();
    const { spy } = await h.subscribe(bothTopics);
    const p = await h.publisher();
    const invalid = { ...sampleInteraction({ tenantId }), interactionType: "view" } as never;
    const error = await p.publish("interaction.recorded.v1", invalid).catch((e: unknown) => e);
    expect(EventsError.isInstance(error) && error.code).toBe("VALIDATION_FAILED");
    expect((error as Error).message).toContain("data.interactionType");
    const forged = {
      ...createEvent("decision.made.v1", sampleDecision({ tenantId })),
      data: { ...sampleDecision({ tenantId }), topPropensity: 7 },
    };
    await expect(p.publishEvent(forged as never)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    // A valid marker published afterwards arrives; the invalid ones never did.
    const marker = await p.publish("interaction.recorded.v1", sampleInteraction({ tenantId, offerId: "marker" }));
    await spy.waitFor("interaction.recorded.v1", (e) => e.id === marker.id, h.timeout);
    if (!h.capabilities.perKeyOrder) await new Promise((r) => setTimeout(r, 250));
    expect(spy.events.filter((e) => e.tenantid === tenantId).map((e) => e.id)).toEqual([marker.id]);
    expect(p.metrics().failures.VALIDATION_FAILED).toBe(2);
  });

  it("flush settles everything; metrics count it; ready() reports ready", async () => {
    const p = await h.publisher();
    const tenantId = uniqueTenant();
    const before = p.metrics().published;
    const pending = Array.from({ length: 20 }, () => p.publish("decision.made.v1", sampleDecision({ tenantId })));
    await p.flush();
    await Promise.all(pending);
    expect(p.metrics()).toMatchObject({ published: before + 20, pending: 0 });
    expect(await p.ready()).toMatchObject({ ready: true, backend: p.backend });
  });

  it("close is idempotent and a publish after close fails with PUBLISHER_CLOSED", async () => {
    const p = await h.options.createPublisher();
    await p.publish("decision.made.v1", sampleDecision({ tenantId: uniqueTenant() }));
    await Promise.all([p.close(), p.close()]);
    await p.close();
    await expect(p.publish("decision.made.v1", sampleDecision())).rejects.toMatchObject({ code: "PUBLISHER_CLOSED" });
    await expect(p.publishBatch([createEvent("decision.made.v1", sampleDecision())])).rejects.toMatchObject({ code: "PUBLISHER_CLOSED" });
  });
}
