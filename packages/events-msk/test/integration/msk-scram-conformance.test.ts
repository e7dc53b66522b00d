// The shared conformance suite for MSK in SCRAM mode, against the real Apache Kafka broker of
// tooling/services/kafka.sh: real SASL SCRAM-SHA-512 authentication, real produce/consume. Not real:
// MSK itself, and TLS unless the broker offers a SASL_SSL listener (see helpers.ts; the title says which).

import { readFileSync } from "node:fs";
import { EventsError } from "@kaireon/events-core";
import { ensureTopics } from "@kaireon/events-kafka";
import { describeBackendConformance, sampleDecision } from "@kaireon/events-testkit";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMskPublisher, createMskSubscriber, type MskOptions, readMskOptions, toKafkaOptions } from "../../src/index.js";
import { quiet, scramEnv, scramTransport, uniquePrefix } from "./helpers.js";

const prefix = uniquePrefix("conf");
let options: MskOptions;
let raw: Producer | undefined;

beforeAll(async () => {
  options = readMskOptions(await scramEnv(prefix));
  await ensureTopics(toKafkaOptions(options).kafka, { partitions: 3, replicationFactor: 1, logger: quiet });
});
afterAll(async () => {
  await raw?.disconnect();
});

/** Raw kafkajs with the same SCRAM user: writes what our publisher never would (malformed records). */
async function injectRaw(topic: string, text: string): Promise<void> {
  if (!raw) {
    const { username, password } = options.auth as { username: string; password: string };
    raw = new Kafka({
      brokers: options.brokers,
      ...(options.tls.enabled ? { ssl: options.tls.caFile ? { ca: [readFileSync(options.tls.caFile, "utf8")] } : true } : {}),
      clientId: "kaireon-test-raw",
      sasl: { mechanism: "scram-sha-512", username, password },
      logLevel: logLevel.NOTHING,
    }).producer();
    await raw.connect();
  }
  await raw.send({ topic: options.topicPrefix + topic, messages: [{ key: "raw", value: text }] });
}

describeBackendConformance({
  name: `msk sasl_scram, ${scramTransport()}`,
  createPublisher: () => createMskPublisher(options, { logger: quiet }),
  createQueueBoundPublisher: (maxQueued) =>
    createMskPublisher({ ...options, kafka: { ...options.kafka, maxQueued, batchSize: 4 } }, { logger: quiet }),
  createSubscriber: () => createMskSubscriber(options, { logger: quiet }),
  capabilities: { perKeyOrder: true, replay: true, replayFromTime: true, receivers: false },
  injectRaw,
  createUnreachablePublisher: () =>
    createMskPublisher({ ...options, brokers: ["127.0.0.1:1"], kafka: { publishTimeoutMs: 2000 } }, { logger: quiet }),
});

describe("msk sasl_scram transport", () => {
  it("is SCRAM-SHA-512 over TLS, as MSK requires (the broker's SASL_SSL listener, verified against its CA)", async () => {
    // kafka.sh always offers the SASL_SSL listener; without it this run would only prove SCRAM in clear.
    expect(process.env.KAFKA_TEST_SASL_TLS_BROKERS, "KAFKA_TEST_SASL_TLS_BROKERS (SASL_SSL listener) is not set").toBeTruthy();
    expect(options.tls).toEqual({ enabled: true, caFile: process.env.KAFKA_TEST_TLS_CA_FILE });
    const kafka = toKafkaOptions(options).kafka;
    expect(kafka.sasl?.mechanism).toBe("scram-sha-512");
    expect(kafka.ssl).toMatchObject({ ca: [expect.stringContaining("BEGIN CERTIFICATE")] });
    const publisher = createMskPublisher(options, { logger: quiet });
    try {
      const ready = await publisher.ready();
      expect(ready).toMatchObject({ ready: true, backend: "msk" });
      expect(ready.detail).toContain("SASL SCRAM-SHA-512");
    } finally {
      await publisher.close();
    }
  });
});

describe("msk sasl_scram with a wrong password", () => {
  it("fails with AUTH_FAILED naming the MSK variables, never the password", async () => {
    const password = "wrong-Pa55word-for-msk";
    const publisher = createMskPublisher(
      { ...options, auth: { mode: "sasl_scram", username: (options.auth as { username: string }).username, password } },
      { logger: quiet },
    );
    try {
      const error = await publisher.publish("decision.made.v1", sampleDecision()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(EventsError.isInstance(error), String(error)).toBe(true);
      expect(error).toMatchObject({ code: "AUTH_FAILED", backend: "msk" });
      expect((error as Error).message).toContain("SASL SCRAM-SHA-512 authentication failed");
      expect((error as Error).message).toContain("check MSK_SASL_USERNAME and MSK_SASL_PASSWORD");
      expect(JSON.stringify({ m: (error as Error).message, d: (error as EventsError).details })).not.toContain(password);
      const ready = await publisher.ready();
      expect(ready.ready).toBe(false);
      expect(ready.detail).toContain("MSK_SASL_PASSWORD");
      expect(ready.detail).not.toContain(password);
    } finally {
      await publisher.close();
    }
  });
});
