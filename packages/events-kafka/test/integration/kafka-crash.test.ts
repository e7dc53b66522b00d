// A kafkajs consumer crash, caused for real: the subscription's SCRAM password is rotated on the
// broker (kafka-configs) while it runs, then its connections are aborted (as a network fault would).
// kafkajs reconnects, the broker refuses the old password, and the consumer crashes with a
// non-retriable SASL error (CRASH, restart: false) — after which kafkajs itself never reads again.
// The subscription must say so through onError (AUTH_FAILED) and resubscribe with backoff until the
// credentials work again, or until it is closed.

import { type SubscriptionError, silentLogger } from "@kaireon/events-core";
import { createEventSpy, sampleDecision, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaPublisher, createKafkaSubscriber, type KafkaOptions, type KafkaPublisher } from "../../src/index.js";
import { abortOwnConnections, brokerOptions, connectionsTo, prepareTopics, setScramUser, testClients, uniquePrefix } from "./helpers.js";

const topic = "decision.made.v1";
const user = `kaireon-crash-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const password = `crash-pw-${Math.random().toString(36).slice(2)}`;
const rotated = `${password}-rotated`;
for (const client of testClients())
  describe(`client ${client}`, () => {
    let options: KafkaOptions;
    let publisher: KafkaPublisher;
    let saslPort: number;

    beforeAll(async () => {
      await setScramUser(user, password);
      const prefix = uniquePrefix(`crash-${client}`);
      const scram = await brokerOptions("sasl-scram-sha-512", prefix, { client });
      options = { ...scram, sasl: { mechanism: "scram-sha-512", username: user, password } };
      saslPort = Number((options.brokers[0] as string).split(":")[1]);
      await prepareTopics(await brokerOptions("plaintext", prefix, { client }), 1);
      publisher = createKafkaPublisher(await brokerOptions("plaintext", prefix, { client }), { logger: silentLogger });
    });
    afterAll(async () => {
      await publisher?.close();
      await setScramUser(user, undefined).catch(() => {});
    });

    async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    describe("kafka subscriber after a consumer crash", () => {
      it("reports AUTH_FAILED and resubscribes with backoff; events flow again once the credentials work", async () => {
        const tenantId = uniqueTenant("crash");
        const failures: SubscriptionError[] = [];
        const spy = createEventSpy();
        const subscriber = createKafkaSubscriber(options, { logger: silentLogger });
        try {
          await subscriber.subscribe([topic], spy.handler, { group: `crash-${user}`, onError: (f) => failures.push(f) });
          const before = await publisher.publish(topic, sampleDecision({ tenantId, recommendationId: "before" }));
          await spy.waitFor(topic, (e) => e.id === before.id, 30_000);

          await setScramUser(user, rotated); // the running consumer still holds the old password
          expect(await abortOwnConnections(saslPort)).toBeGreaterThan(0);
          await until("onError told of the crash", () => failures.some((f) => f.error.code === "AUTH_FAILED"), 30_000);
          const crash = failures.find((f) => f.error.code === "AUTH_FAILED") as SubscriptionError;
          expect(crash.error.backend).toBe("kafka");
          expect(crash.error.message).toContain("SCRAM-SHA-512");
          expect(crash.error.message).not.toContain(password);

          await setScramUser(user, password); // the credentials work again
          const after = await publisher.publish(topic, sampleDecision({ tenantId, recommendationId: "after" }));
          await spy.waitFor(topic, (e) => e.id === after.id, 90_000);
        } finally {
          await subscriber.close();
        }
      });

      it("close() during the resubscribe backoff ends it: no attempt, no report, no connection after", async () => {
        const failures: SubscriptionError[] = [];
        const subscriber = createKafkaSubscriber(options, { logger: silentLogger });
        try {
          await subscriber.subscribe([topic], () => {}, { group: `crash-close-${user}`, onError: (f) => failures.push(f) });
          await setScramUser(user, rotated);
          await abortOwnConnections(saslPort);
          await until("onError told of the crash", () => failures.some((f) => f.error.code === "AUTH_FAILED"), 30_000);
        } finally {
          await subscriber.close();
          await setScramUser(user, password);
        }
        const reported = failures.length;
        await new Promise((r) => setTimeout(r, 3000));
        expect(failures.length, "reports after close()").toBe(reported);
        expect(connectionsTo(saslPort), "connections to the SASL listener after close()").toBe(0);
      });
    });
  });
