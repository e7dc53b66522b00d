// Faults on the wire (events-testkit's describeWireFaults): the Toxiproxy proxy `kafka-sasl` between
// the real Kafka client and the broker's PROXIED_SASL listener, every scenario, publisher and
// subscriber side. That listener advertises the proxy's own address (tooling/services/kafka.sh), so
// the metadata the client learns keeps every connection — bootstrap, partition leader, group
// coordinator — behind the proxy; and it speaks SASL SCRAM-SHA-512, so a password crosses the faulted
// wire and the secret check has something to find. Kafka is durable: every event reported published
// is read back from the topic with a plain kafkajs consumer on the PLAINTEXT listener, not through
// the proxy and not through the project's subscriber.
//
// The client is a parameter: every client the package offers runs every scenario, chosen through
// KAFKA_CLIENT exactly as a user's environment would.
import { describeWireFaults, requireService, Toxiproxy, type WireFaultOptions } from "@kaireon/events-testkit";
import { beforeAll } from "vitest";
import { createKafkaPublisher, createKafkaSubscriber, type KafkaOptions, kafkaOptionsFromEnv } from "../../src/index.js";
import { brokerOptions, plainKafka, prepareTopics, testClients, uniquePrefix } from "./helpers.js";

/** Past the `slow` scenario's 2.5 s round trip (jitter on top), so a slow link is slow, not failed. */
const PUBLISH_TIMEOUT_MS = 8_000;
const BLACK_HOLE_MS = 10_000;
const MAX_QUEUED = 2_000;
const BATCH_SIZE = 200;
const TOPIC = "decision.made.v1";
// Every client the package offers (KAFKA_TEST_CLIENTS narrows a local run, as in the other files).
const clients = testClients();
const prefix = uniquePrefix("wire");

function need(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run through tooling/with-services.sh with KAIREON_SERVICES including kafka and toxiproxy ` +
        "(a broker started by an older kafka.sh has no PROXIED_SASL listener: restart it)",
    );
  return value;
}

// Read here, not in beforeAll: the scenarios' options are built when the file loads. Unset, beforeAll
// fails the file with need()'s message before any scenario runs.
const password = process.env.KAFKA_TEST_SCRAM_PASSWORD ?? "";
let direct: KafkaOptions;
beforeAll(async () => {
  await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  need("KAFKA_TEST_PROXIED_SASL_BROKERS");
  need("KAFKA_TEST_SCRAM_PASSWORD");
  direct = await brokerOptions("plaintext", prefix);
  await prepareTopics(direct, 3);
});

/** Every record of the topic, read from the beginning on the PLAINTEXT listener with plain kafkajs. */
async function readTopic(): Promise<Array<{ id: string; tenantid: string }>> {
  const kafka = plainKafka({ brokers: direct.brokers, clientId: "kaireon-wire-reader" });
  const admin = kafka.admin();
  await admin.connect();
  const name = prefix + TOPIC;
  const high = new Map((await admin.fetchTopicOffsets(name)).map((p) => [p.partition, BigInt(p.high)]));
  await admin.disconnect();
  const out: Array<{ id: string; tenantid: string }> = [];
  const reached = new Map<number, bigint>();
  const done = () => [...high].every(([partition, h]) => h === 0n || (reached.get(partition) ?? -1n) + 1n >= h);
  const consumer = kafka.consumer({ groupId: `kaireon-wire-reader-${Date.now()}-${Math.random().toString(36).slice(2, 6)}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [name], fromBeginning: true });
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    if (done()) finish();
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        out.push(JSON.parse(message.value?.toString("utf8") ?? "{}"));
        reached.set(partition, BigInt(message.offset));
        if (done()) finish();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      finished,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`reading ${name} back did not reach its end offsets within 60 s`)), 60_000);
      }),
    ]);
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

for (const client of clients) {
  const env = (address: string) => ({
    KAFKA_BROKERS: address,
    KAFKA_CLIENT: client,
    KAFKA_CLIENT_ID: `kaireon-wire-${client}`,
    KAFKA_SASL_MECHANISM: "scram-sha-512",
    KAFKA_SASL_USERNAME: need("KAFKA_TEST_SCRAM_USERNAME"),
    KAFKA_SASL_PASSWORD: password,
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
    KAFKA_MAX_QUEUED: String(MAX_QUEUED),
    KAFKA_BATCH_SIZE: String(BATCH_SIZE),
    KAFKA_CONNECTION_TIMEOUT_MS: "2000",
  });
  const options = (address: string): KafkaOptions => {
    const resolved = kafkaOptionsFromEnv(env(address));
    // The client goes through KAFKA_CLIENT as a user's environment would; make sure it took.
    if (resolved.client !== client) throw new Error(`KAFKA_CLIENT=${client} resolved to ${resolved.client}`);
    return resolved;
  };
  const common: Omit<WireFaultOptions, "name"> = {
    // Unused: the proxy is the one tooling/services/toxiproxy.sh made in front of this listener.
    upstream: process.env.KAFKA_TEST_PROXIED_SASL_UPSTREAM ?? "",
    proxy: async () => (await Toxiproxy.fromEnv()).proxy("kafka-sasl"),
    createPublisher: ({ address, logger }) => createKafkaPublisher(options(address), { logger }),
    createSubscriber: ({ address, logger }) => createKafkaSubscriber(options(address), { logger }),
    readBack: async (tenantId) => {
      const ids = (await readTopic()).filter((e) => e.tenantid === tenantId).map((e) => e.id);
      // A figure, not an assertion: what a failed publish (its answer lost) may still have stored.
      console.info(`[kafka wire] ${client} ${tenantId}: ${ids.length} records stored, ${new Set(ids).size} distinct events`);
      return ids;
    },
    // KAFKA_MAX_QUEUED waiting plus the one batch of KAFKA_BATCH_SIZE in flight.
    pendingBound: MAX_QUEUED + BATCH_SIZE,
    publishTimeoutMs: PUBLISH_TIMEOUT_MS,
    secrets: [password],
    // A consumer kafkajs restarts rejoins as a new member: the old one's session (30 s) and, in a
    // rebalance under way, the rebalance timeout (60 s) bound how long until it reads again.
    recoveryMs: 120_000,
  };
  describeWireFaults({
    ...common,
    name: `kafka (${client}, SASL SCRAM-SHA-512)`,
    scenarios: ["down", "slow", "reset", "trickle", "flap"],
  });
  // Longer than one request (kafkajs requestTimeout: 5 s here) and than the publish bound, so a
  // request really times out in the hole — instead of being retried on the fresh connection the heal
  // brings (Toxiproxy closes what its timeout toxic held when it is removed) — and publishes reach
  // KAFKA_PUBLISH_TIMEOUT_MS while their batch is still out.
  describeWireFaults({
    ...common,
    name: `kafka (${client}, SASL SCRAM-SHA-512, ${BLACK_HOLE_MS / 1000} s)`,
    scenarios: ["blackHole", "lostAnswers"],
    faultMs: BLACK_HOLE_MS,
  });
}
