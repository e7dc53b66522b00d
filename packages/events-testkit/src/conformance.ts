// The contract every backend passes, run by each backend's own test file with its factories and
// capability switches (what the backend can honestly promise: per-key order, replay, …). Each test
// uses a tenant of its own, so a persistent broker's older events never confuse it.

import {
  createEvent,
  type DomainEvent,
  EventsError,
  type Publisher,
  type SubscribeOptions,
  type Subscriber,
  type Subscription,
  type TopicName,
} from "@kaireon/events-core";
import { afterAll, describe, expect, it } from "vitest";
import { sampleDecision, sampleInteraction, uniqueTenant } from "./fixtures.js";
import { createEventSpy } from "./spy.js";
import { describeSubscriberContract } from "./subscriber-contract.js";

export type Factory<T> = () => T | Promise<T>;

export interface ConformanceCapabilities {
  /** Events of one partition key arrive in publish order, also when published concurrently. */
  perKeyOrder: boolean;
  /** A new subscriber can read events published before it subscribed (`from: "earliest"`). */
  replay: boolean;
  /** `from: <Date>` starts at the first event at or after that time. */
  replayFromTime: boolean;
  /** The publish result says how many subscribers received the event (Redis pub/sub). */
  receivers: boolean;
}

export interface ConformanceOptions {
  /** Shown in the describe() title, e.g. `redis (pub/sub)`. */
  name: string;
  createPublisher: Factory<Publisher>;
  createSubscriber: Factory<Subscriber>;
  capabilities: ConformanceCapabilities;
  /** A publisher configured for an address where nothing listens; its publish must fail with a coded error. */
  createUnreachablePublisher?: Factory<Publisher>;
  /** Writes raw text where subscribers read (the backend's raw client), to test malformed messages. */
  injectRaw?: (topic: TopicName, raw: string) => Promise<void>;
  /** Extra subscribe options (e.g. a group per test is added automatically). */
  subscribeOptions?: SubscribeOptions;
  /** How long to wait for a message to arrive; default 20 s. */
  receiveTimeoutMs?: number;
  /** Wait after subscribe() before publishing, for backends whose subscription goes live late (default 0). */
  settleMs?: number;
}

const both: TopicName[] = ["interaction.recorded.v1", "decision.made.v1"];

// A capability the backend does not claim is not tested at all (rather than shown as skipped):
// the describe() title lists what was claimed.
const none = (..._args: unknown[]) => {};

function claimed(caps: ConformanceCapabilities): string {
  const on = Object.entries(caps)
    .filter(([, v]) => v)
    .map(([k]) => k);
  return on.length ? on.join(", ") : "no optional capabilities";
}

export function describePublisherConformance(options: ConformanceOptions): void {
  const { capabilities: caps } = options;
  const timeout = options.receiveTimeoutMs ?? 20_000;
  const cleanups: Array<() => Promise<void>> = [];

  async function publisher(): Promise<Publisher> {
    const p = await options.createPublisher();
    cleanups.push(() => p.close());
    return p;
  }

  async function subscribe(topics: TopicName[], extra: SubscribeOptions = {}) {
    const subscriber: Subscriber = await options.createSubscriber();
    const spy = createEventSpy();
    const subscription: Subscription = await subscriber.subscribe(topics, spy.handler, {
      group: uniqueTenant("conformance"),
      ...options.subscribeOptions,
      ...extra,
      onError: spy.onError,
    });
    cleanups.push(async () => {
      await subscription.close();
      await subscriber.close();
    });
    if (options.settleMs) await new Promise((r) => setTimeout(r, options.settleMs));
    return { spy, subscription, subscriber };
  }

  describe(`publisher/subscriber conformance: ${options.name} [${claimed(caps)}]`, () => {
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    });

    it("publishes and reads back both topics, equal to what was created", async () => {
      const tenantId = uniqueTenant();
      const { spy } = await subscribe(both);
      const p = await publisher();
      const interaction = await p.publish("interaction.recorded.v1", sampleInteraction({ tenantId }));
      const decision = await p.publish("decision.made.v1", sampleDecision({ tenantId }));
      for (const result of [interaction, decision]) {
        expect(result).toMatchObject({ backend: p.backend, status: "published" });
        expect(result.id).toMatch(/^[0-9a-f-]{36}$/);
      }
      const gotInteraction = await spy.waitFor("interaction.recorded.v1", (e) => e.id === interaction.id, timeout);
      const gotDecision = await spy.waitFor("decision.made.v1", (e) => e.id === decision.id, timeout);
      expect(gotInteraction.data).toEqual(sampleInteraction({ tenantId, timestamp: gotInteraction.data.timestamp }));
      expect(gotInteraction).toMatchObject({
        specversion: "1.0",
        type: "interaction.recorded.v1",
        tenantid: tenantId,
        partitionkey: `${tenantId}:cust-1`,
      });
      expect(gotDecision.data.tenantId).toBe(tenantId);
      if (caps.receivers) expect(interaction.receivers).toBeGreaterThanOrEqual(1);
    });

    it("publishEvent sends a ready envelope with its own id (an outbox re-send keeps it)", async () => {
      const tenantId = uniqueTenant();
      const { spy } = await subscribe(["decision.made.v1"]);
      const p = await publisher();
      const event = createEvent("decision.made.v1", sampleDecision({ tenantId }), {
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      });
      const result = await p.publishEvent(event);
      expect(result.id).toBe(event.id);
      const received = await spy.waitFor("decision.made.v1", (e) => e.id === event.id, timeout);
      expect({ ...received }).toEqual({ ...event });
    });

    it("publishBatch sends every event and settles each one", async () => {
      const tenantId = uniqueTenant();
      const { spy } = await subscribe(both);
      const p = await publisher();
      const events: DomainEvent[] = Array.from({ length: 50 }, (_, i) =>
        i % 2
          ? createEvent("interaction.recorded.v1", sampleInteraction({ tenantId, customerId: `c${i % 5}`, offerId: `o${i}` }))
          : createEvent("decision.made.v1", sampleDecision({ tenantId, customerId: `c${i % 5}`, recommendationId: `r${i}` })),
      );
      const results = await p.publishBatch(events);
      expect(results.map((r) => r.status)).toEqual(events.map(() => "fulfilled"));
      expect(results.map((r) => (r as PromiseFulfilledResult<{ id: string }>).value.id)).toEqual(events.map((e) => e.id));
      const received = await spy.waitForCount(50, (e) => e.tenantid === tenantId, timeout);
      expect(new Set(received.map((e) => e.id))).toEqual(new Set(events.map((e) => e.id)));
    });

    (caps.perKeyOrder ? it : none)("keeps per-key order for concurrent publishes", async () => {
      const tenantId = uniqueTenant();
      const { spy } = await subscribe(["decision.made.v1"]);
      const p = await publisher();
      const total = 400;
      await Promise.all(
        Array.from({ length: total }, (_, i) =>
          p.publish("decision.made.v1", sampleDecision({ tenantId, customerId: `cust-${i % 8}`, recommendationId: String(i) })),
        ),
      );
      const received = await spy.waitForCount(total, (e) => e.tenantid === tenantId, timeout);
      for (let k = 0; k < 8; k++) {
        const seq = received
          .filter((e) => e.subject === `cust-${k}`)
          .map((e) => Number((e.data as { recommendationId: string }).recommendationId));
        expect(seq).toEqual([...seq].sort((a, b) => a - b));
        expect(seq).toHaveLength(total / 8);
      }
    });

    it("rejects an invalid payload before any I/O: nothing reaches the backend", async () => {
      const tenantId = uniqueTenant();
      const { spy } = await subscribe(both);
      const p = await publisher();
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
      await spy.waitFor("interaction.recorded.v1", (e) => e.id === marker.id, timeout);
      if (!caps.perKeyOrder) await new Promise((r) => setTimeout(r, 250));
      expect(spy.events.filter((e) => e.tenantid === tenantId).map((e) => e.id)).toEqual([marker.id]);
      expect(p.metrics().failures.VALIDATION_FAILED).toBe(2);
    });

    it("flush settles everything; metrics count it; ready() reports ready", async () => {
      const p = await publisher();
      const tenantId = uniqueTenant();
      const before = p.metrics().published;
      const pending = Array.from({ length: 20 }, () => p.publish("decision.made.v1", sampleDecision({ tenantId })));
      await p.flush();
      await Promise.all(pending);
      expect(p.metrics()).toMatchObject({ published: before + 20, pending: 0 });
      expect(await p.ready()).toMatchObject({ ready: true, backend: p.backend });
    });

    it("close is idempotent and a publish after close fails with PUBLISHER_CLOSED", async () => {
      const p = await options.createPublisher();
      await p.publish("decision.made.v1", sampleDecision({ tenantId: uniqueTenant() }));
      await Promise.all([p.close(), p.close()]);
      await p.close();
      await expect(p.publish("decision.made.v1", sampleDecision())).rejects.toMatchObject({ code: "PUBLISHER_CLOSED" });
      await expect(p.publishBatch([createEvent("decision.made.v1", sampleDecision())])).rejects.toMatchObject({ code: "PUBLISHER_CLOSED" });
    });

    it("a closed subscription receives nothing more, and close is idempotent", async () => {
      const tenantId = uniqueTenant();
      const closed = await subscribe(["decision.made.v1"]);
      const p = await publisher();
      const first = await p.publish("decision.made.v1", sampleDecision({ tenantId }));
      await closed.spy.waitFor("decision.made.v1", (e) => e.id === first.id, timeout);
      // A second subscription that stays open sees what is published after the close: once it has
      // the event, the closed one had every chance to receive it too (on a queue shared by both it
      // would have taken it instead). No fixed sleep, so slow backends cannot pass by luck.
      const open = await subscribe(["decision.made.v1"]);
      await Promise.all([closed.subscription.close(), closed.subscription.close()]);
      await closed.subscription.close();
      const after = await p.publish("decision.made.v1", sampleDecision({ tenantId }));
      await open.spy.waitFor("decision.made.v1", (e) => e.id === after.id, timeout);
      expect(closed.spy.events.filter((e) => e.tenantid === tenantId).map((e) => e.id)).toEqual([first.id]);
    });

    (options.injectRaw ? it : none)("reports a malformed message with its raw text and keeps going", async () => {
      const tenantId = uniqueTenant();
      const { spy } = await subscribe(["decision.made.v1"]);
      await options.injectRaw?.("decision.made.v1", `{"not":"an event","tenant":"${tenantId}"}`);
      await options.injectRaw?.("decision.made.v1", "{broken json");
      const p = await publisher();
      const after = await p.publish("decision.made.v1", sampleDecision({ tenantId }));
      await spy.waitFor("decision.made.v1", (e) => e.id === after.id, timeout);
      const errors = await spy.waitForErrors(2, timeout);
      const raws = errors.map((e) => e.raw);
      expect(raws).toContain("{broken json");
      expect(errors.map((e) => e.error.code)).toEqual(expect.arrayContaining(["MALFORMED_MESSAGE"]));
    });

    (caps.replay ? it : none)("replays from earliest for a new subscriber", async () => {
      const tenantId = uniqueTenant();
      const p = await publisher();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: `r${i}` }))).id);
      await p.flush();
      const { spy } = await subscribe(["decision.made.v1"], { from: "earliest" });
      const received = await spy.waitForCount(5, (e) => e.tenantid === tenantId, timeout * 2);
      expect(received.map((e) => e.id)).toEqual(ids);
    });

    (caps.replayFromTime ? it : none)("replays from a time: exactly the events at or after it", async () => {
      const tenantId = uniqueTenant();
      const p = await publisher();
      await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "before" }));
      await new Promise((r) => setTimeout(r, 1100));
      const since = new Date();
      const after: string[] = [];
      for (let i = 0; i < 3; i++)
        after.push((await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: `after-${i}` }))).id);
      const { spy } = await subscribe(["decision.made.v1"], { from: since });
      await spy.waitForCount(3, (e) => e.tenantid === tenantId, timeout * 2);
      await new Promise((r) => setTimeout(r, 500));
      expect(spy.events.filter((e) => e.tenantid === tenantId).map((e) => e.id)).toEqual(after);
    });

    describeSubscriberContract({ options, publisher, timeout, register: (cleanup) => cleanups.push(cleanup) });

    (options.createUnreachablePublisher ? it : none)(
      "fails with a coded error when the broker is unreachable",
      async () => {
        const p = (await options.createUnreachablePublisher?.()) as Publisher;
        try {
          const error = await p.publish("decision.made.v1", sampleDecision()).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(EventsError.isInstance(error), `expected an EventsError, got ${String(error)}`).toBe(true);
          expect(["CONNECTION_FAILED", "PUBLISH_TIMEOUT", "PUBLISH_FAILED", "AUTH_FAILED"]).toContain((error as EventsError).code);
          expect((await p.ready()).ready).toBe(false);
          expect(p.metrics().failed).toBeGreaterThanOrEqual(1);
        } finally {
          await p.close();
        }
      },
      60_000,
    );
  });
}
