// Two comparisons against the raw clients, in the same run:
// 1. Publishing in SCRAM mode on the real broker's SCRAM-SHA-512 listener (tooling/services/kafka.sh):
//    the MSK publisher (N concurrent publishEvent) vs raw kafkajs sendBatch of the same pre-serialized
//    messages with the same SCRAM user and producer settings (idempotent, acks=all, 1 in flight).
// 2. IAM tokens: the cached provider vs calling aws-msk-iam-sasl-signer-js on every authentication
//    (static credentials from the environment, so no network: this measures signing, not STS).
// Needs KAFKA_TEST_SASL_BROKERS and the SCRAM user: run through tooling/with-services.sh.
//   BENCH_EVENTS (default 20000), BENCH_TOKENS (default 2000)
import { CLOUDEVENTS_CONTENT_TYPE, createEvent, serializeEvent, silentLogger } from "@kaireon/events-core";
import { ensureTopics } from "@kaireon/events-kafka";
import { generateAuthToken } from "aws-msk-iam-sasl-signer-js";
import { Kafka, logLevel } from "kafkajs";
import { createMskIamTokenProvider, createMskPublisher, readMskOptions, toKafkaOptions } from "../dist/index.js";

const brokers = process.env.KAFKA_TEST_SASL_BROKERS;
const username = process.env.KAFKA_TEST_SCRAM_USERNAME;
const password = process.env.KAFKA_TEST_SCRAM_PASSWORD;
if (!brokers || !username || !password) {
  console.error(
    "KAFKA_TEST_SASL_BROKERS/KAFKA_TEST_SCRAM_* are not set — run: KAIREON_SERVICES=kafka bash tooling/with-services.sh pnpm --filter @kaireon/events-msk bench",
  );
  process.exit(1);
}
const N = Number(process.env.BENCH_EVENTS ?? 20_000);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 2_000);
const topicPrefix = `bench-msk-${Date.now().toString(36)}.`;
const topic = `${topicPrefix}decision.made.v1`;
const options = readMskOptions({
  MSK_BROKERS: brokers,
  MSK_AUTH_MODE: "sasl_scram",
  MSK_SASL_USERNAME: username,
  MSK_SASL_PASSWORD: password,
  MSK_TLS_ENABLED: "false", // the test broker's SCRAM listener is SASL_PLAINTEXT
  MSK_TOPIC_PREFIX: topicPrefix,
});
const { kafka: kafkaOptions } = toKafkaOptions(options);
await ensureTopics(kafkaOptions, { topics: ["decision.made.v1"], partitions: 6, replicationFactor: 1, logger: silentLogger });

const makeEvents = (n, label) =>
  Array.from({ length: n }, (_, i) =>
    createEvent("decision.made.v1", {
      tenantId: "bench",
      customerId: `cust-${i % 500}`,
      recommendationId: `${label}-${i}`,
      offersReturned: 5,
      topOfferId: `offer-${i % 50}`,
      topPropensity: (i % 100) / 100,
      decisionFlowKey: "default-flow",
      timestamp: new Date().toISOString(),
    }),
  );
const toMessage = (e) => ({ key: e.partitionkey, value: serializeEvent(e), headers: { "content-type": CLOUDEVENTS_CONTENT_TYPE } });

const raw = new Kafka({
  brokers: brokers.split(","),
  clientId: "kaireon-bench-raw",
  sasl: { mechanism: "scram-sha-512", username, password },
  logLevel: logLevel.NOTHING,
}).producer({ idempotent: true, maxInFlightRequests: 1 });
await raw.connect();
const publisher = createMskPublisher(options, { logger: silentLogger });
const batchSize = kafkaOptions.batchSize;

async function runPublisher(events) {
  const t0 = performance.now();
  await Promise.all(events.map((e) => publisher.publishEvent(e)));
  return events.length / ((performance.now() - t0) / 1000);
}
async function runRaw(messages) {
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i += batchSize)
    await raw.sendBatch({ acks: -1, topicMessages: [{ topic, messages: messages.slice(i, i + batchSize) }] });
  return messages.length / ((performance.now() - t0) / 1000);
}

await runPublisher(makeEvents(2000, "warm"));
await runRaw(makeEvents(2000, "warm-raw").map(toMessage));
const ROUNDS = 4;
const rounds = [];
for (let round = 0; round < ROUNDS; round++) {
  const events = makeEvents(N / ROUNDS, `p${round}`);
  const messages = makeEvents(N / ROUNDS, `r${round}`).map(toMessage);
  rounds.push({ publisher: await runPublisher(events), raw: await runRaw(messages) });
}
await publisher.close();
await raw.disconnect();
const overall = (k) => rounds.length / rounds.reduce((sum, r) => sum + 1 / r[k], 0);
const fmt = (n) => Math.round(n).toLocaleString("en-US");

// Tokens: static credentials so the signer needs no network.
process.env.AWS_ACCESS_KEY_ID ||= "AKIABENCH0000000000";
process.env.AWS_SECRET_ACCESS_KEY ||= "bench-secret";
const provider = createMskIamTokenProvider({ region: "us-east-1" });
let t0 = performance.now();
for (let i = 0; i < TOKENS; i++) await provider.oauthBearerProvider();
const cached = TOKENS / ((performance.now() - t0) / 1000);
const SIGNS = Math.min(TOKENS, 500);
t0 = performance.now();
for (let i = 0; i < SIGNS; i++) await generateAuthToken({ region: "us-east-1" });
const signed = SIGNS / ((performance.now() - t0) / 1000);

console.log(`msk bench: SCRAM-SHA-512 on ${brokers}, ${N} events per side (${ROUNDS} rounds), batch size ${batchSize}`);
for (const [i, r] of rounds.entries())
  console.log(`  round ${i + 1}: msk publisher ${fmt(r.publisher)} ev/s, raw kafkajs sendBatch ${fmt(r.raw)} ev/s`);
console.log(`  msk publisher        ${fmt(overall("publisher"))} events/s`);
console.log(`  raw kafkajs (SCRAM)  ${fmt(overall("raw"))} events/s`);
console.log(`  msk / raw = ${(overall("publisher") / overall("raw")).toFixed(2)}`);
console.log(`  IAM token, cached provider   ${fmt(cached)} tokens/s (${provider.stats().generated} signed for ${TOKENS} requests)`);
console.log(`  IAM token, signer every time ${fmt(signed)} tokens/s (${SIGNS} calls, default credential chain, no STS)`);
console.log(`  cached / signer = ${(cached / signed).toFixed(0)}×`);
