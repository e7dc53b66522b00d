// Replay and the subscriber's group semantics on a real broker: a new group from earliest gets
// everything already published; one from a time gets exactly the events at or after it; a group
// with a committed position resumes there (commit happens after the handler); a handler that keeps
// failing is reported and skipped without blocking the partition; one cut short by close() is not
// committed, so the group reads it again.

import type { DomainEvent } from "@kaireon/events-core";
import { createEventSpy, sampleDecision, silentLogger, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaPublisher, createKafkaSubscriber, type KafkaOptions, type KafkaPublisher } from "../../src/index.js";
import { brokerOptions, clientOn, fullListeners, prepareTopics, testClients, uniquePrefix } from "./helpers.js";

const quiet = { logger: silentLogger };
for (const client of testClients())
  for (const listener of fullListeners())
    describe(clientOn(client, listener), () => {
      let options: KafkaOptions;
      let publisher: KafkaPublisher;
      const closers: Array<() => Promise<void>> = [];

      beforeAll(async () => {
        options = await brokerOptions(listener, uniquePrefix(`replay-${client}-${listener}`), { client });
        await prepareTopics(options);
        publisher = createKafkaPublisher(options, quiet);
        closers.push(() => publisher.close());
      });
      afterAll(async () => {
        for (const close of closers.reverse()) await close().catch(() => {});
      });

      async function publishMany(tenantId: string, n: number, label: string): Promise<string[]> {
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) =>
            publisher.publish("decision.made.v1", sampleDecision({ tenantId, customerId: `c${i % 7}`, recommendationId: `${label}-${i}` })),
          ),
        );
        return results.map((r) => r.id);
      }

      async function subscribe(from: "earliest" | "latest" | Date, group = uniqueTenant("g"), handlerAttempts?: number) {
        const subscriber = createKafkaSubscriber({ ...options, ...(handlerAttempts ? { handlerAttempts } : {}) }, quiet);
        const spy = createEventSpy();
        const subscription = await subscriber.subscribe(["decision.made.v1"], spy.handler, { group, from, onError: spy.onError });
        closers.push(() => subscriber.close());
        return { spy, subscription, subscriber };
      }

      const ids = (events: DomainEvent[]) => new Set(events.map((e) => e.id));

      describe("kafka replay", () => {
        it("a new group from earliest receives every event already published", async () => {
          const tenantId = uniqueTenant("earliest");
          const published = await publishMany(tenantId, 300, "e");
          const { spy } = await subscribe("earliest");
          const received = await spy.waitForCount(300, (e) => e.tenantid === tenantId, 60_000);
          expect(ids(received)).toEqual(new Set(published));
        });

        it("a new group from a time receives exactly the events at or after it", async () => {
          const tenantId = uniqueTenant("since");
          const before = await publishMany(tenantId, 100, "before");
          await new Promise((r) => setTimeout(r, 1100));
          const since = new Date();
          const after = await publishMany(tenantId, 100, "after");
          const { spy } = await subscribe(since);
          await spy.waitForCount(100, (e) => e.tenantid === tenantId, 60_000);
          // Give stragglers (events from before `since`, were any wrongly included) time to show up.
          await new Promise((r) => setTimeout(r, 1000));
          const got = spy.events.filter((e) => e.tenantid === tenantId);
          expect(ids(got)).toEqual(new Set(after));
          expect(got.some((e) => before.includes(e.id))).toBe(false);
        });

        it("a group with a committed position resumes there, whatever `from` says", async () => {
          const tenantId = uniqueTenant("resume");
          const group = uniqueTenant("resume-group");
          const first = await subscribe("latest", group);
          const batch1 = await publishMany(tenantId, 50, "one");
          await first.spy.waitForCount(50, (e) => e.tenantid === tenantId, 60_000);
          await first.subscription.close(); // commits what the handler finished
          const batch2 = await publishMany(tenantId, 50, "two");
          const second = await subscribe("earliest", group);
          await second.spy.waitForCount(50, (e) => e.tenantid === tenantId, 60_000);
          await new Promise((r) => setTimeout(r, 1000));
          const got = second.spy.events.filter((e) => e.tenantid === tenantId);
          expect(ids(got)).toEqual(new Set(batch2));
          expect(got.some((e) => batch1.includes(e.id))).toBe(false);
        });

        it("a handler that keeps failing is reported as HANDLER_FAILED and the partition moves on", async () => {
          const tenantId = uniqueTenant("failing");
          const subscriber = createKafkaSubscriber({ ...options, handlerAttempts: 2 }, quiet);
          closers.push(() => subscriber.close());
          const spy = createEventSpy();
          let calls = 0;
          await subscriber.subscribe(
            ["decision.made.v1"],
            async (event, context) => {
              if (event.data.recommendationId === "poison") {
                calls++;
                throw new Error("cannot handle this one");
              }
              await spy.handler(event, context);
            },
            { group: uniqueTenant("failing-group"), onError: spy.onError },
          );
          // Same customer, so the same partition: the poison event sits in front of the good one.
          await publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "poison" }));
          const good = await publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "good" }));
          await spy.waitFor("decision.made.v1", (e) => e.id === good.id, 30_000);
          const [failure] = await spy.waitForErrors(1, 30_000);
          expect(failure?.error.code).toBe("HANDLER_FAILED");
          expect(failure?.error.message).toContain("cannot handle this one");
          expect(calls).toBe(2);
        });

        it("a record whose handler close() cut short is not committed: the group's next consumer gets it", async () => {
          const tenantId = uniqueTenant("held");
          const group = uniqueTenant("held-group");
          const subscriber = createKafkaSubscriber(options, quiet);
          closers.push(() => subscriber.close());
          const spy = createEventSpy();
          let heldStarted: (() => void) | undefined;
          const started = new Promise<void>((resolve) => {
            heldStarted = resolve;
          });
          const subscription = await subscriber.subscribe(
            ["decision.made.v1"],
            async (event, context) => {
              if (event.data.recommendationId === "held") {
                heldStarted?.();
                // Busy until the subscription closes (context.signal), then gives up: the work was not done.
                await new Promise<void>((_, reject) => context.signal?.addEventListener("abort", () => reject(new Error("aborted"))));
              }
              await spy.handler(event, context);
            },
            { group, onError: spy.onError },
          );
          // Same customer, so the same partition: "done" is committed, "held" follows it.
          const done = await publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "done" }));
          await spy.waitFor("decision.made.v1", (e) => e.id === done.id, 30_000);
          const held = await publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "held" }));
          await started;
          await subscription.close();
          expect(spy.errors.map((f) => f.error.code)).toEqual([]);
          const next = await subscribe("latest", group);
          const again = await next.spy.waitFor("decision.made.v1", (e) => e.id === held.id, 30_000);
          expect(again.id).toBe(held.id);
          expect(next.spy.events.some((e) => e.id === done.id)).toBe(false);
        });
      });
    });
