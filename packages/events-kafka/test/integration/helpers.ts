// Options for each listener of the broker tooling/services/kafka.sh starts (PLAINTEXT, SASL PLAIN,
// SASL SCRAM-SHA-512, TLS), and a raw kafkajs producer for writing what our publisher never would.

import { readFileSync } from "node:fs";
import { silentLogger } from "@kaireon/events-core";
import { requireService } from "@kaireon/events-testkit";
import { Kafka, logLevel } from "kafkajs";
import { ensureTopics, type KafkaOptions, resolveKafkaOptions } from "../../src/index.js";

export type Listener = "plaintext" | "sasl-plain" | "sasl-scram-sha-512" | "tls";

function need(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run through tooling/with-services.sh (KAIREON_SERVICES=kafka), which starts all listeners`);
  return value;
}

export async function brokerOptions(listener: Listener, topicPrefix: string, extra: Partial<KafkaOptions> = {}): Promise<KafkaOptions> {
  const plaintext = await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  const base = { topicPrefix, clientId: `kaireon-test-${listener}`, ...extra };
  switch (listener) {
    case "plaintext":
      return resolveKafkaOptions({ brokers: plaintext.split(","), ...base });
    case "sasl-plain":
      return resolveKafkaOptions({
        brokers: need("KAFKA_TEST_SASL_BROKERS").split(","),
        sasl: { mechanism: "plain", username: need("KAFKA_TEST_PLAIN_USERNAME"), password: need("KAFKA_TEST_PLAIN_PASSWORD") },
        ...base,
      });
    case "sasl-scram-sha-512":
      return resolveKafkaOptions({
        brokers: need("KAFKA_TEST_SASL_BROKERS").split(","),
        sasl: { mechanism: "scram-sha-512", username: need("KAFKA_TEST_SCRAM_USERNAME"), password: need("KAFKA_TEST_SCRAM_PASSWORD") },
        ...base,
      });
    case "tls":
      return resolveKafkaOptions({
        brokers: need("KAFKA_TEST_TLS_BROKERS").split(","),
        ssl: { ca: [readFileSync(need("KAFKA_TEST_TLS_CA_FILE"), "utf8")] },
        ...base,
      });
  }
}

/** A topic prefix no other test file or run uses. */
export function uniquePrefix(name: string): string {
  return `test-${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}.`;
}

export async function prepareTopics(options: KafkaOptions, partitions = 3): Promise<void> {
  await ensureTopics(options, { partitions, replicationFactor: 1, logger: silentLogger });
}

/** Writes raw bytes with plain kafkajs, bypassing the publisher (for malformed-record tests). */
export function rawWriter(options: KafkaOptions) {
  const kafka = new Kafka({ brokers: options.brokers, clientId: "kaireon-test-raw", logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  let connected: Promise<void> | undefined;
  return {
    async write(topic: string, value: string, key = "raw") {
      connected ??= producer.connect();
      await connected;
      await producer.send({ topic: options.topicPrefix + topic, messages: [{ key, value }] });
    },
    close: () => producer.disconnect(),
  };
}
