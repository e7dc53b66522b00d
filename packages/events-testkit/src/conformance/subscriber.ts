// The subscriber side of the contract, the same on every backend (core's SubscriberBase implements
// it once): checks before any I/O, SUBSCRIBER_CLOSED, and the handler contract — attempts, a timeout
// per attempt, HANDLER_FAILED to onError, then the next message; an onError that throws stops nothing.

import {
  type EventHandler,
  EventsError,
  type Publisher,
  type SubscribeOptions,
  type Subscriber,
  type SubscriptionError,
  type TopicName,
} from "@kaireon/events-core";
import { expect, it } from "vitest";
import { sampleDecision, uniqueTenant } from "../fixtures.js";
import { createEventSpy } from "../spy.js";
import type { ConformanceHarness } from "./harness.js";

export function subscriberCases(h: ConformanceHarness): void {
  const { options, timeout, register } = h;
  const publisher = (): Promise<Publisher> => h.publisher();
  async function subscriber(): Promise<Subscriber> {
    const s = await options.createSubscriber();
    register(() => s.close());
    return s;
  }

  /** Subscribes with a handler that fails for the events `fails` picks; the rest reach the spy. */
  async function subscribeFailing(
    fails: (recommendationId: string) => "throw" | "hang" | undefined,
    extra: SubscribeOptions & { onError?: (failure: SubscriptionError) => void },
  ) {
    const spy = createEventSpy();
    const calls = new Map<string, number>();
    const signals: AbortSignal[] = [];
    const handler: EventHandler = async (event, context) => {
      const id = event.type === "decision.made.v1" ? (event.data.recommendationId ?? "") : "";
      const mode = fails(id);
      if (mode) {
        calls.set(id, (calls.get(id) ?? 0) + 1);
        if (context.signal) signals.push(context.signal);
        if (mode === "throw") throw new Error(`handler refuses ${id}`);
        return new Promise<void>(() => {}); // never settles
      }
      await spy.handler(event, context);
    };
    const s = await subscriber();
    const subscription = await s.subscribe(["decision.made.v1"], handler, {
      group: uniqueTenant("contract"),
      ...options.subscribeOptions,
      onError: spy.onError,
      ...extra,
    });
    register(() => subscription.close());
    if (options.settleMs) await new Promise((r) => setTimeout(r, options.settleMs));
    return { spy, calls, signals };
  }

  it("subscribe checks its input before any I/O: empty list, unknown topic, bad handler options", async () => {
    const s = await subscriber();
    const noop = () => {};
    await expect(s.subscribe([], noop)).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    await expect(s.subscribe(["order.placed.v1" as TopicName], noop)).rejects.toMatchObject({ code: "UNKNOWN_TOPIC" });
    await expect(s.subscribe(["decision.made.v1"], noop, { handlerAttempts: 0 })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });

  it("subscribe after close fails with SUBSCRIBER_CLOSED; close is idempotent", async () => {
    const s = await options.createSubscriber();
    await Promise.all([s.close(), s.close()]);
    await s.close();
    const error = await s.subscribe(["decision.made.v1"], () => {}).catch((e: unknown) => e);
    expect(EventsError.isInstance(error) && error.code).toBe("SUBSCRIBER_CLOSED");
  });

  it("a handler that keeps failing is tried handlerAttempts times, then HANDLER_FAILED, then the next event", async () => {
    const tenantId = uniqueTenant();
    const { spy, calls } = await subscribeFailing((id) => (id === "refused" ? "throw" : undefined), { handlerAttempts: 2 });
    const p = await publisher();
    const refused = await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "refused" }));
    const next = await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "next" }));
    await spy.waitFor("decision.made.v1", (e) => e.id === next.id, timeout);
    const [failure] = await spy.waitForErrors(1, timeout);
    expect(failure?.error).toMatchObject({ code: "HANDLER_FAILED", details: { attempts: 2, timedOut: false, eventId: refused.id } });
    expect(calls.get("refused")).toBe(2);
  });

  it("a handler that never settles is given up after handlerTimeoutMs (its signal aborted) and the next event goes on", async () => {
    const tenantId = uniqueTenant();
    const { spy, signals } = await subscribeFailing((id) => (id === "hangs" ? "hang" : undefined), {
      handlerAttempts: 1,
      handlerTimeoutMs: 300,
    });
    const p = await publisher();
    await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "hangs" }));
    const next = await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "next" }));
    await spy.waitFor("decision.made.v1", (e) => e.id === next.id, timeout);
    const [failure] = await spy.waitForErrors(1, timeout);
    expect(failure?.error).toMatchObject({ code: "HANDLER_FAILED", details: { attempts: 1, timedOut: true } });
    expect(signals.length).toBeGreaterThanOrEqual(1);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
  });

  it("an onError that throws stops nothing: later events still arrive", async () => {
    const tenantId = uniqueTenant();
    const reported: string[] = [];
    const { spy } = await subscribeFailing((id) => (id === "refused" ? "throw" : undefined), {
      handlerAttempts: 1,
      onError: (failure) => {
        reported.push(failure.error.code);
        throw new Error("onError is broken too");
      },
    });
    const p = await publisher();
    await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "refused" }));
    const later = await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "later" }));
    await spy.waitFor("decision.made.v1", (e) => e.id === later.id, timeout);
    const again = await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "again" }));
    await spy.waitFor("decision.made.v1", (e) => e.id === again.id, timeout);
    for (let i = 0; i < 100 && reported.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(reported).toContain("HANDLER_FAILED");
  });
}
