// Per-key order at volume: 10,000 events over 50 customers, published concurrently (no awaiting in
// between), arrive in publish order per customer. The Batcher keeps one sendBatch in flight and the
// idempotent producer keeps each partition's order, so any reordering would show here.

import { createEventSpy, sampleDecision, silentLogger, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaPublisher, createKafkaSubscriber, type KafkaOptions } from "../../src/index.js";
import { brokerOptions, clientOn, fullListeners, prepareTopics, testClients, uniquePrefix } from "./helpers.js";

const quiet = { logger: silentLogger };
for (const client of testClients())
  for (const listener of fullListeners())
    describe(clientOn(client, listener), () => {
      let options: KafkaOptions;
      const closers: Array<() => Promise<void>> = [];

      beforeAll(async () => {
        options = await brokerOptions(listener, uniquePrefix(`order-${client}-${listener}`), { client });
        await prepareTopics(options, 6);
      });
      afterAll(async () => {
        for (const close of closers.reverse()) await close().catch(() => {});
      });

      describe("kafka per-key order", () => {
        it("10,000 events over 50 customers arrive in order per customer", async () => {
          const total = 10_000;
          const customers = 50;
          const tenantId = uniqueTenant("order");
          const subscriber = createKafkaSubscriber(options, quiet);
          closers.push(() => subscriber.close());
          const spy = createEventSpy();
          await subscriber.subscribe(["decision.made.v1"], spy.handler, { group: uniqueTenant("order-group"), onError: spy.onError });

          const publisher = createKafkaPublisher(options, quiet);
          closers.push(() => publisher.close());
          const results = await Promise.allSettled(
            Array.from({ length: total }, (_, i) =>
              publisher.publish(
                "decision.made.v1",
                sampleDecision({ tenantId, customerId: `cust-${i % customers}`, recommendationId: String(i) }),
              ),
            ),
          );
          expect(results.filter((r) => r.status === "rejected")).toEqual([]);

          const received = await spy.waitForCount(total, (e) => e.tenantid === tenantId, 120_000);
          expect(received).toHaveLength(total);
          expect(new Set(received.map((e) => e.id)).size).toBe(total);
          for (let c = 0; c < customers; c++) {
            const seq = received
              .filter((e) => e.subject === `cust-${c}`)
              .map((e) => Number((e.data as { recommendationId: string }).recommendationId));
            expect(seq).toHaveLength(total / customers);
            expect(seq).toEqual([...seq].sort((a, b) => a - b));
          }
          expect(spy.errors).toEqual([]);
        }, 180_000);
      });
    });
