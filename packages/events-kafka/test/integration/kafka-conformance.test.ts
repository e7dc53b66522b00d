// The shared conformance suite against a real Apache Kafka broker, once per listener: PLAINTEXT,
// SASL_PLAINTEXT with PLAIN and with SCRAM-SHA-512, and TLS. Plus: a wrong password fails fast with
// AUTH_FAILED naming the mechanism (not a hang), and the password appears nowhere.

import { EventsError } from "@kaireon/events-core";
import { describePublisherConformance, sampleDecision } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaPublisher, createKafkaSubscriber, type KafkaOptions, resolveKafkaOptions } from "../../src/index.js";
import { brokerOptions, type Listener, prepareTopics, rawWriter, uniquePrefix } from "./helpers.js";

const quiet = { logger: { debug() {}, info() {}, warn() {}, error() {} } };
const listeners: Listener[] = ["plaintext", "sasl-plain", "sasl-scram-sha-512", "tls"];

for (const listener of listeners) {
  const prefix = uniquePrefix(`conf-${listener}`);
  let options: KafkaOptions;
  let raw: ReturnType<typeof rawWriter> | undefined;

  beforeAll(async () => {
    options = await brokerOptions(listener, prefix);
    await prepareTopics(options);
  });
  afterAll(async () => {
    await raw?.close();
  });

  describePublisherConformance({
    name: `kafka ${listener}`,
    createPublisher: () => createKafkaPublisher(options, quiet),
    createSubscriber: () => createKafkaSubscriber(options, quiet),
    capabilities: { perKeyOrder: true, replay: true, replayFromTime: true, receivers: false },
    createUnreachablePublisher: () =>
      createKafkaPublisher(resolveKafkaOptions({ ...options, brokers: ["127.0.0.1:1"], publishTimeoutMs: 5000 }), quiet),
    // The raw writer speaks PLAINTEXT; the malformed-record path is the same on every listener.
    ...(listener === "plaintext"
      ? {
          injectRaw: async (topic, text) => {
            raw ??= rawWriter(options);
            await raw.write(topic, text);
          },
        }
      : {}),
  });
}

describe("kafka SASL with a wrong password", () => {
  for (const mechanism of ["plain", "scram-sha-512"] as const) {
    it(`fails with AUTH_FAILED naming ${mechanism.toUpperCase()}, without the password`, async () => {
      const good = await brokerOptions(mechanism === "plain" ? "sasl-plain" : "sasl-scram-sha-512", uniquePrefix("auth"));
      const password = "definitely-wrong-Pa55word";
      const options = { ...good, sasl: { mechanism, username: (good.sasl as { username: string }).username, password } };
      const publisher = createKafkaPublisher(options, quiet);
      try {
        const error = await publisher.publish("decision.made.v1", sampleDecision()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(EventsError.isInstance(error), String(error)).toBe(true);
        expect((error as EventsError).code).toBe("AUTH_FAILED");
        expect((error as Error).message).toContain(mechanism.toUpperCase());
        expect((error as Error).message).not.toContain(password);
        expect(JSON.stringify((error as EventsError).details)).not.toContain(password);
        const ready = await publisher.ready();
        expect(ready.ready).toBe(false);
        expect(ready.detail).toContain("authentication failed");
        expect(ready.detail).not.toContain(password);
        const subscriber = createKafkaSubscriber(options, quiet);
        await expect(subscriber.subscribe(["decision.made.v1"], () => {})).rejects.toMatchObject({ code: "AUTH_FAILED" });
        await subscriber.close();
      } finally {
        await publisher.close();
      }
    });
  }
});
