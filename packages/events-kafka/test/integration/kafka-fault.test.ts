// The broker is killed (SIGKILL) mid-run and started again on the same ports and data. While it is
// down, publishes reject with a coded error (at the latest after publishTimeoutMs); none that was
// reported as published may be missing afterwards. The broker is controlled through the script
// tooling/services/kafka.sh writes (KAFKA_TEST_CONTROL).

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { EventsError } from "@kaireon/events-core";
import { createEventSpy, sampleDecision, silentLogger, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaPublisher, createKafkaSubscriber, type KafkaOptions } from "../../src/index.js";
import { brokerOptions, clientOn, fullListeners, prepareTopics, testClients, uniquePrefix } from "./helpers.js";

const run = promisify(execFile);
const quiet = { logger: silentLogger };
// The outage is a fixed wait of this + 2 s, so that publishes sent into it reach their bound: 5 s
// (10 s before) keeps that wait short; the refusals surface as coded errors well within it.
const publishTimeoutMs = 5_000;
for (const client of testClients())
  for (const listener of fullListeners())
    describe(clientOn(client, listener), () => {
      let options: KafkaOptions;
      let control: string;

      beforeAll(async () => {
        options = await brokerOptions(listener, uniquePrefix(`fault-${client}-${listener}`), { publishTimeoutMs, client });
        const value = process.env.KAFKA_TEST_CONTROL;
        if (!value) throw new Error("KAFKA_TEST_CONTROL is not set: run through tooling/with-services.sh (KAIREON_SERVICES=kafka)");
        control = value;
        await prepareTopics(options);
      });
      afterAll(async () => {
        // Whatever happened, leave the broker running for the files after this one.
        await run(control, ["start"], { timeout: 150_000 }).catch(() => {});
      });

      describe("kafka broker stopped and restarted mid-run", () => {
        it("every publish settles; none reported as sent is missing", async () => {
          const tenantId = uniqueTenant("fault");
          const publisher = createKafkaPublisher(options, quiet);
          const sent = new Set<string>();
          const failures = new Map<string, number>();
          let maxSettleMs = 0;
          let seq = 0;
          const inflight: Promise<void>[] = [];
          const publishSome = (n: number) => {
            for (let i = 0; i < n; i++) {
              const started = Date.now();
              const p = publisher
                .publish("decision.made.v1", sampleDecision({ tenantId, customerId: `c${seq % 20}`, recommendationId: String(seq++) }))
                .then(
                  (result) => {
                    sent.add(result.id);
                  },
                  (error: unknown) => {
                    const code = EventsError.isInstance(error) ? error.code : `UNCODED(${String(error)})`;
                    failures.set(code, (failures.get(code) ?? 0) + 1);
                  },
                )
                .finally(() => {
                  maxSettleMs = Math.max(maxSettleMs, Date.now() - started);
                });
              inflight.push(p);
            }
          };
          // A steady, bounded trickle (50 events every 100 ms) around the outage.
          let stop = false;
          const pump = (async () => {
            while (!stop) {
              publishSome(50);
              await new Promise((r) => setTimeout(r, 100));
            }
          })();
          try {
            await new Promise((r) => setTimeout(r, 2000));
            const beforeKill = sent.size;
            await run(control, ["stop"]);
            await new Promise((r) => setTimeout(r, publishTimeoutMs + 2000)); // long enough for publishes to time out
            await run(control, ["start"], { timeout: 150_000 });
            // Keep going until publishes succeed again (bounded), then a little longer.
            const afterRestart = sent.size;
            const deadline = Date.now() + 90_000;
            while (sent.size < afterRestart + 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
            stop = true;
            await pump;
            await Promise.all(inflight);
            await publisher.close();

            const failed = [...failures.values()].reduce((a, b) => a + b, 0);
            console.log(
              `[fault] published ${seq}: ${sent.size} acked (${beforeKill} before the kill), ${failed} rejected ${JSON.stringify(Object.fromEntries(failures))}, slowest settle ${maxSettleMs} ms (bound ${publishTimeoutMs} ms)`,
            );
            expect(sent.size + failed).toBe(seq); // every publish settled one way or the other
            expect(failed).toBeGreaterThan(0); // the outage was real
            expect(sent.size).toBeGreaterThan(afterRestart); // and publishing recovered after it
            for (const code of failures.keys())
              expect(["PUBLISH_TIMEOUT", "CONNECTION_FAILED", "PUBLISH_FAILED", "QUEUE_FULL"]).toContain(code);

            // Durability: a fresh group reads the topic from the beginning; every acked event is there.
            const subscriber = createKafkaSubscriber(options, quiet);
            try {
              const spy = createEventSpy();
              await subscriber.subscribe(["decision.made.v1"], spy.handler, { group: uniqueTenant("fault-check"), from: "earliest" });
              await spy.waitForCount(sent.size, (e) => e.tenantid === tenantId && sent.has(e.id), 120_000);
              const stored = new Set(spy.events.filter((e) => e.tenantid === tenantId).map((e) => e.id));
              const missing = [...sent].filter((id) => !stored.has(id));
              console.log(`[fault] stored ${stored.size} distinct events, acked-but-missing ${missing.length}`);
              expect(missing).toEqual([]);
            } finally {
              await subscriber.close();
            }
          } finally {
            stop = true;
            await pump;
            await publisher.close().catch(() => {});
          }
        }, 400_000);
      });
    });
