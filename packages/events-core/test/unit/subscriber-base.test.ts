// The subscriber shell every backend extends, exercised through the in-memory backend (its transport
// is the smallest there is). The conformance suite checks the same contract on every real backend.
import { afterEach, describe, expect, it } from "vitest";
import { createEvent, type DomainEvent } from "../../src/envelope.js";
import { silentLogger } from "../../src/logger.js";
import { MemoryBus, MemoryPublisher, MemorySubscriber } from "../../src/memory-backend.js";
import type { SubscriptionError } from "../../src/ports.js";
import { decision } from "../fixtures.js";

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on("unhandledRejection", onUnhandled);
afterEach(() => {
  unhandled.length = 0;
});

function setup() {
  const bus = new MemoryBus();
  const publisher = new MemoryPublisher({ bus, logger: silentLogger });
  const subscriber = new MemorySubscriber({ bus, logger: silentLogger });
  return { bus, publisher, subscriber };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("SubscriberBase (via the memory backend)", () => {
  it("an onError that throws does not stop the subscription, and raises no unhandled rejection", async () => {
    const { publisher, subscriber } = setup();
    const seen: string[] = [];
    await subscriber.subscribe(
      ["decision.made.v1"],
      (event) => {
        if (event.data.recommendationId === "bad") throw new Error("boom");
        seen.push(event.data.recommendationId ?? "");
      },
      {
        handlerAttempts: 1,
        onError: () => {
          throw new Error("onError is broken too");
        },
      },
    );
    await publisher.publish("decision.made.v1", decision({ recommendationId: "bad" }));
    await publisher.publish("decision.made.v1", decision({ recommendationId: "good-1" }));
    await publisher.publish("decision.made.v1", decision({ recommendationId: "good-2" }));
    await until(() => seen.length === 2, "both good events");
    await tick();
    expect(seen).toEqual(["good-1", "good-2"]);
    expect(unhandled).toEqual([]);
    await subscriber.close();
  });

  it("an async onError that rejects is not an unhandled rejection either", async () => {
    const { publisher, subscriber } = setup();
    const seen: string[] = [];
    await subscriber.subscribe(
      ["decision.made.v1"],
      (event) => {
        if (event.data.recommendationId === "bad") throw new Error("boom");
        seen.push(event.data.recommendationId ?? "");
      },
      { handlerAttempts: 1, onError: (async () => Promise.reject(new Error("async onError failed"))) as never },
    );
    await publisher.publish("decision.made.v1", decision({ recommendationId: "bad" }));
    await publisher.publish("decision.made.v1", decision({ recommendationId: "good" }));
    await until(() => seen.length === 1, "the good event");
    await tick();
    expect(unhandled).toEqual([]);
    await subscriber.close();
  });

  it("a failing handler is tried handlerAttempts times, then HANDLER_FAILED, then the next event", async () => {
    const { publisher, subscriber } = setup();
    const calls: string[] = [];
    const errors: SubscriptionError[] = [];
    await subscriber.subscribe(
      ["decision.made.v1"],
      (event) => {
        calls.push(event.data.recommendationId ?? "");
        if (event.data.recommendationId === "bad") throw new Error("boom");
      },
      { handlerAttempts: 3, onError: (f) => errors.push(f) },
    );
    const bad = await publisher.publish("decision.made.v1", decision({ recommendationId: "bad" }));
    await publisher.publish("decision.made.v1", decision({ recommendationId: "next" }));
    await until(() => calls.includes("next"), "the next event");
    expect(calls).toEqual(["bad", "bad", "bad", "next"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toMatchObject({
      code: "HANDLER_FAILED",
      backend: "memory",
      details: { attempts: 3, timedOut: false, eventId: bad.id },
    });
    expect(errors[0]?.error.message).toMatch(/^\[memory\] handler failed 3 times for event .* boom — skipped$/);
    expect((errors[0]?.error.cause as Error | undefined)?.message).toBe("boom");
    await subscriber.close();
  });

  it("a handler that never settles is given up after handlerTimeoutMs, its signal aborted, and the next event goes on", async () => {
    const { publisher, subscriber } = setup();
    const errors: SubscriptionError[] = [];
    const signals: AbortSignal[] = [];
    const seen: string[] = [];
    await subscriber.subscribe(
      ["decision.made.v1"],
      (event, context) => {
        if (event.data.recommendationId === "hang") {
          if (context.signal) signals.push(context.signal);
          return new Promise<void>(() => {});
        }
        seen.push(event.data.recommendationId ?? "");
      },
      { handlerAttempts: 2, handlerTimeoutMs: 50, onError: (f) => errors.push(f) },
    );
    await publisher.publish("decision.made.v1", decision({ recommendationId: "hang" }));
    await publisher.publish("decision.made.v1", decision({ recommendationId: "after" }));
    await until(() => seen.includes("after"), "the event after the hung one");
    expect(signals).toHaveLength(2);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(errors.map((e) => e.error.code)).toEqual(["HANDLER_FAILED"]);
    expect(errors[0]?.error.details).toMatchObject({ attempts: 2, timedOut: true });
    expect(errors[0]?.error.message).toContain("handlerTimeoutMs");
    await subscriber.close();
  });

  it("rejects an empty topic list, an unknown topic and bad handler options with coded errors", async () => {
    const { subscriber } = setup();
    await expect(subscriber.subscribe([], () => {})).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    await expect(subscriber.subscribe(["order.placed.v1" as never], () => {})).rejects.toMatchObject({
      code: "UNKNOWN_TOPIC",
      message: expect.stringContaining('"order.placed.v1" is not a topic'),
    });
    await expect(subscriber.subscribe(["decision.made.v1"], () => {}, { handlerAttempts: 0 })).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("handlerAttempts"),
    });
    await expect(subscriber.subscribe(["decision.made.v1"], () => {}, { handlerTimeoutMs: -1 })).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("handlerTimeoutMs"),
    });
  });

  it("subscribe after close fails with SUBSCRIBER_CLOSED; close is idempotent", async () => {
    const { subscriber } = setup();
    await subscriber.subscribe(["decision.made.v1"], () => {});
    await Promise.all([subscriber.close(), subscriber.close()]);
    await subscriber.close();
    await expect(subscriber.subscribe(["decision.made.v1"], () => {})).rejects.toMatchObject({ code: "SUBSCRIBER_CLOSED" });
  });

  it("close waits for the handler in progress and nothing is handled after it", async () => {
    const { publisher, subscriber } = setup();
    const seen: string[] = [];
    let release: () => void = () => {};
    const subscription = await subscriber.subscribe(["decision.made.v1"], async (event: DomainEvent) => {
      if (event.type === "decision.made.v1" && event.data.recommendationId === "slow") await new Promise<void>((r) => (release = r));
      seen.push(event.type === "decision.made.v1" ? (event.data.recommendationId ?? "") : "");
    });
    await publisher.publish("decision.made.v1", decision({ recommendationId: "slow" }));
    await publisher.publish("decision.made.v1", decision({ recommendationId: "queued" }));
    await tick();
    let closed = false;
    const closing = subscription.close().then(() => (closed = true));
    await tick();
    expect(closed).toBe(false);
    release();
    await closing;
    expect(seen).toEqual(["slow"]);
    await publisher.publish("decision.made.v1", decision({ recommendationId: "late" }));
    await tick();
    expect(seen).toEqual(["slow"]);
  });

  it("an event of a topic the subscription did not ask for is reported, not handled", async () => {
    const { bus, subscriber } = setup();
    const errors: SubscriptionError[] = [];
    const seen: DomainEvent[] = [];
    await subscriber.subscribe(["decision.made.v1"], (e) => void seen.push(e), { onError: (f) => errors.push(f) });
    // The bus filters by topic; a transport that cannot (one Kinesis stream, one SQS queue) hands the
    // shell whatever it read. Reach the inbox through a listener that ignores topics.
    const stray = createEvent("interaction.recorded.v1", {
      tenantId: "t",
      customerId: "c",
      offerId: "o",
      creativeId: null,
      channelId: "web",
      interactionType: "click",
      outcomeTypeKey: "clicked",
      campaignId: null,
      recommendationId: null,
      timestamp: new Date().toISOString(),
    });
    const listeners = (bus as unknown as { listeners: Set<{ deliver: (e: DomainEvent, c: { source: string }) => void }> }).listeners;
    for (const l of listeners) l.deliver(stray as DomainEvent, { source: "shared-stream" });
    await until(() => errors.length === 1, "the report");
    expect(seen).toEqual([]);
    expect(errors[0]?.error).toMatchObject({ code: "MALFORMED_MESSAGE" });
    expect(errors[0]?.error.message).toContain("only decision.made.v1 were subscribed");
    await subscriber.close();
  });
});
