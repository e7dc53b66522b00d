// MSK in SCRAM mode on a faulty wire: the black hole (a connection accepted and never answered, the
// fault behind "a request that never settles"), through the Toxiproxy proxy `kafka-sasl` in front of
// the broker's PROXIED_SASL listener, which advertises the proxy (tooling/services/kafka.sh), so every
// connection stays behind it. MSK's publisher and subscriber are events-kafka's with MSK's options and
// errors: events-kafka's kafka-wire-faults.test.ts runs every scenario on them and reads the topic
// back; this file checks what MSK adds — its options, its error hints, no MSK_SASL_PASSWORD anywhere.
// No TLS here (MSK's SCRAM port always has it); the wire under the TLS is the same.
import { ensureTopics } from "@kaireon/events-kafka";
import { describeWireFaults, requireService, Toxiproxy } from "@kaireon/events-testkit";
import { beforeAll } from "vitest";
import { createMskPublisher, createMskSubscriber, type MskOptions, readMskOptions, toKafkaOptions } from "../../src/index.js";
import { quiet, uniquePrefix } from "./helpers.js";

const PUBLISH_TIMEOUT_MS = 8_000;
const MAX_QUEUED = 2_000;
const BATCH_SIZE = 200;
const prefix = uniquePrefix("wire");
// Read when the file loads (the options below are built then); beforeAll fails the file when unset.
const password = process.env.KAFKA_TEST_SCRAM_PASSWORD ?? "";

const options = (address: string): MskOptions =>
  readMskOptions({
    MSK_BROKERS: address,
    MSK_TLS_ENABLED: "false",
    MSK_AUTH_MODE: "sasl_scram",
    MSK_SASL_USERNAME: process.env.KAFKA_TEST_SCRAM_USERNAME ?? "",
    MSK_SASL_PASSWORD: password,
    MSK_TOPIC_PREFIX: prefix,
    MSK_REGION: "eu-west-1",
  });
const kafka = { publishTimeoutMs: PUBLISH_TIMEOUT_MS, maxQueued: MAX_QUEUED, batchSize: BATCH_SIZE, retryBudgetMs: PUBLISH_TIMEOUT_MS / 2 };

beforeAll(async () => {
  await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  for (const name of ["KAFKA_TEST_PROXIED_SASL_BROKERS", "KAFKA_TEST_SCRAM_USERNAME", "KAFKA_TEST_SCRAM_PASSWORD"])
    if (!process.env[name])
      throw new Error(`${name} is not set: run through tooling/with-services.sh with KAIREON_SERVICES including kafka and toxiproxy`);
  await ensureTopics(toKafkaOptions(options(process.env.KAFKA_TEST_PROXIED_SASL_BROKERS as string)).kafka, {
    partitions: 3,
    replicationFactor: 1,
    logger: quiet,
  });
});

describeWireFaults({
  name: "msk (SASL SCRAM-SHA-512)",
  upstream: process.env.KAFKA_TEST_PROXIED_SASL_UPSTREAM ?? "",
  proxy: async () => (await Toxiproxy.fromEnv()).proxy("kafka-sasl"),
  createPublisher: ({ address, logger }) => createMskPublisher({ ...options(address), kafka }, { logger }),
  createSubscriber: ({ address, logger }) => createMskSubscriber({ ...options(address), kafka }, { logger }),
  pendingBound: MAX_QUEUED + BATCH_SIZE,
  publishTimeoutMs: PUBLISH_TIMEOUT_MS,
  // Past kafkajs' request timeout (5 s here) and the publish bound: requests time out in the hole.
  faultMs: 10_000,
  scenarios: ["blackHole"],
  secrets: [password],
  // As events-kafka's: a restarted consumer waits out its old member's session and a rebalance.
  recoveryMs: 120_000,
});
