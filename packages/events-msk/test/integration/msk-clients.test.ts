// MSK on each Kafka client (MSK_CLIENT): SCRAM-SHA-512 over TLS round trip and a refused password,
// and IAM's OAUTHBEARER token function reaching a plain TLS listener (which refuses it; tokens verified
// by a broker: the msk-iam-*.test.ts files; the full SCRAM conformance runs in msk-scram-conformance.test.ts).

import { EventsError } from "@kaireon/events-core";
import { ensureTopics, kafkaClients } from "@kaireon/events-kafka";
import { createEventSpy, requireService, sampleDecision, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, describe, expect, it } from "vitest";
import { createMskPublisher, createMskSubscriber, readMskOptions, toKafkaOptions } from "../../src/index.js";
import { quiet, scramEnv, uniquePrefix } from "./helpers.js";

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
});

for (const client of kafkaClients)
  describe(`msk on ${client}`, () => {
    it("SCRAM-SHA-512: what is published is delivered", async () => {
      const options = readMskOptions({ ...(await scramEnv(uniquePrefix(`clients-${client}`))), MSK_CLIENT: client });
      await ensureTopics(toKafkaOptions(options).kafka, { partitions: 3, replicationFactor: 1, logger: quiet });
      const subscriber = createMskSubscriber(options, { logger: quiet });
      closers.push(() => subscriber.close());
      const spy = createEventSpy();
      const tenantId = uniqueTenant("msk-clients");
      await subscriber.subscribe(["decision.made.v1"], spy.handler, { group: uniqueTenant("msk-clients-g"), onError: spy.onError });
      const publisher = createMskPublisher(options, { logger: quiet });
      closers.push(() => publisher.close());
      const sent = await Promise.all(
        Array.from({ length: 20 }, (_, i) => publisher.publish("decision.made.v1", sampleDecision({ tenantId, customerId: `c${i % 3}` }))),
      );
      const received = await spy.waitForCount(20, (e) => e.tenantid === tenantId, 60_000);
      expect(new Set(received.map((e) => e.id))).toEqual(new Set(sent.map((r) => r.id)));
      expect(spy.errors).toEqual([]);
    }, 90_000);

    it("SCRAM-SHA-512: a wrong password is AUTH_FAILED with MSK's hint, without the password", async () => {
      const password = "not-the-Pa55word";
      const options = readMskOptions({
        ...(await scramEnv(uniquePrefix(`auth-${client}`))),
        MSK_SASL_PASSWORD: password,
        MSK_CLIENT: client,
      });
      const publisher = createMskPublisher({ ...options, kafka: { publishTimeoutMs: 8000 } }, { logger: quiet });
      closers.push(() => publisher.close());
      const error = await publisher.publish("decision.made.v1", sampleDecision()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(EventsError.isInstance(error), String(error)).toBe(true);
      expect(error).toMatchObject({ code: "AUTH_FAILED", backend: "msk" });
      expect((error as Error).message).toContain("MSK_SASL_PASSWORD");
      expect(JSON.stringify(error)).not.toContain(password);
    }, 60_000);

    // This listener refuses the SASL handshake, before any token is asked for; the token function's
    // wiring is checked in events-kafka's kafka-client-config.test.ts.
    it("IAM: OAUTHBEARER over TLS reaches the broker, whose refusal is AUTH_FAILED naming the IAM checks", async () => {
      await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
      const tlsBrokers = process.env.KAFKA_TEST_TLS_BROKERS;
      const caFile = process.env.KAFKA_TEST_TLS_CA_FILE;
      if (!tlsBrokers || !caFile)
        throw new Error("KAFKA_TEST_TLS_BROKERS/KAFKA_TEST_TLS_CA_FILE are not set: run through tooling/with-services.sh");
      const publisher = createMskPublisher(
        {
          ...readMskOptions({ MSK_BROKERS: tlsBrokers, MSK_TLS_CA_FILE: caFile, MSK_REGION: "eu-west-1", MSK_CLIENT: client }),
          kafka: { publishTimeoutMs: 8000 },
        },
        {
          logger: quiet,
          token: { generate: async () => ({ token: "t1", expiryTime: Date.now() + 900_000 }) },
        },
      );
      closers.push(() => publisher.close());
      const error = await publisher.publish("decision.made.v1", sampleDecision()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: "AUTH_FAILED", backend: "msk" });
      expect((error as Error).message).toContain("SASL OAUTHBEARER authentication failed");
      expect((error as Error).message).toContain("kafka-cluster:Connect");
    }, 60_000);
  });
