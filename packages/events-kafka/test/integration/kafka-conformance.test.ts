// The shared conformance suite against a real Apache Kafka broker, once per listener: PLAINTEXT,
// SASL_PLAINTEXT with PLAIN and with SCRAM-SHA-512, TLS, and SASL_SSL with SCRAM-SHA-512 (MSK's SCRAM
// mode: SCRAM-SHA-512 over TLS). Plus: a wrong password fails fast with
// AUTH_FAILED naming the mechanism (not a hang), and the password appears nowhere.

import { inspect } from "node:util";
import { EventsError } from "@kaireon/events-core";
import { describeBackendConformance, sampleDecision, silentLogger } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafkaPublisher, createKafkaSubscriber, type KafkaOptions, resolveKafkaOptions } from "../../src/index.js";
import { brokerOptions, type Listener, prepareTopics, rawWriter, testClients, uniquePrefix } from "./helpers.js";

const quiet = { logger: silentLogger };
const listeners: Listener[] = ["plaintext", "sasl-plain", "sasl-scram-sha-512", "tls", "sasl-ssl-scram-sha-512"];

for (const client of testClients())
  for (const listener of listeners) {
    const prefix = uniquePrefix(`conf-${client}-${listener}`);
    let options: KafkaOptions;
    let raw: ReturnType<typeof rawWriter> | undefined;

    beforeAll(async () => {
      options = await brokerOptions(listener, prefix, { client });
      await prepareTopics(options);
    });
    afterAll(async () => {
      await raw?.close();
    });

    describeBackendConformance({
      name: `kafka ${client} ${listener}`,
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

/**
 * The error, printed every way a logger might, and each cause down the chain: no password. (kafkajs
 * 2.2.4 does not echo the password in its SASL errors today; the unit test in kafka-errors.test.ts
 * feeds the mapping a client error that does, which is what a raw cause would leak.)
 */
function expectNowhere(error: unknown, password: string): void {
  for (let e: unknown = error, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    expect(inspect(e, { depth: 20, showHidden: true }), `cause ${depth}`).not.toContain(password);
    expect(JSON.stringify(e) ?? "", `cause ${depth}`).not.toContain(password);
    expect(String((e as Error).stack), `cause ${depth}`).not.toContain(password);
  }
}

describe("kafka SASL with a wrong password", () => {
  const cases = [
    { mechanism: "plain", listener: "sasl-plain" },
    { mechanism: "scram-sha-512", listener: "sasl-scram-sha-512" },
    { mechanism: "scram-sha-512", listener: "sasl-ssl-scram-sha-512" },
  ] as const;
  for (const client of testClients())
    for (const { mechanism, listener } of cases) {
      it(`${client}: fails with AUTH_FAILED naming ${mechanism.toUpperCase()} (${listener}), without the password`, async () => {
        const good = await brokerOptions(listener, uniquePrefix("auth"), { client });
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
          expectNowhere(error, password);
          const ready = await publisher.ready();
          expect(ready.ready).toBe(false);
          expect(ready.detail).toContain("authentication failed");
          expect(ready.detail).not.toContain(password);
          const subscriber = createKafkaSubscriber(options, quiet);
          const refused = await subscriber
            .subscribe(["decision.made.v1"], () => {})
            .then(
              () => undefined,
              (e: unknown) => e,
            );
          expect(refused).toMatchObject({ code: "AUTH_FAILED" });
          expectNowhere(refused, password);
          await subscriber.close();
        } finally {
          await publisher.close();
        }
      });
    }
});
