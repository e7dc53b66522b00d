// Publisher throughput against the raw client, on the same broker in the same run:
//   publisher  — N concurrent publishEvent() calls (the Batcher gathers them into sendBatch calls)
//   raw batch  — kafkajs sendBatch of the same pre-serialized messages, same batch size, same producer
//                settings (idempotent, acks=all, maxInFlightRequests 1), one batch after the other
//   naive      — one awaited kafkajs send() per event (what a straightforward integration does)
// Targets: publisher ≥ 0.9 × raw batch, ≥ 5 × naive. Needs KAFKA_BROKERS (tooling/with-services.sh).
//   BENCH_EVENTS (default 120000), BENCH_NAIVE_EVENTS (default 2000), KAFKA_BATCH_SIZE (default 500)
import { CLOUDEVENTS_CONTENT_TYPE, createEvent, serializeEvent, silentLogger } from "@kaireon/events-core";
import { Kafka, logLevel } from "kafkajs";
import { createKafkaPublisher, ensureTopics, resolveKafkaOptions } from "../dist/index.js";

const brokers = process.env.KAFKA_BROKERS?.split(",");
if (!brokers) {
  console.error("KAFKA_BROKERS is not set — run: bash tooling/with-services.sh pnpm --filter @kaireon/events-kafka bench");
  process.exit(1);
}
const N = Number(process.env.BENCH_EVENTS ?? 120_000);
const NAIVE = Number(process.env.BENCH_NAIVE_EVENTS ?? 2_000);
const batchSize = Number(process.env.KAFKA_BATCH_SIZE ?? 500);
const topicPrefix = `bench-${Date.now().toString(36)}.`;
const topic = `${topicPrefix}decision.made.v1`;
const options = resolveKafkaOptions({ brokers, topicPrefix, batchSize, clientId: "kaireon-bench" });
await ensureTopics(options, { topics: ["decision.made.v1"], partitions: 6, replicationFactor: 1, logger: silentLogger });

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

const kafka = new Kafka({ brokers, clientId: "kaireon-bench-raw", logLevel: logLevel.NOTHING });
const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await raw.connect();
const publisher = createKafkaPublisher(options, { logger: silentLogger });

async function runPublisher(events) {
  const t0 = performance.now();
  await Promise.all(events.map((e) => publisher.publishEvent(e)));
  return events.length / ((performance.now() - t0) / 1000);
}
async function runRawBatch(messages) {
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i += batchSize) {
    await raw.sendBatch({ acks: -1, topicMessages: [{ topic, messages: messages.slice(i, i + batchSize) }] });
  }
  return messages.length / ((performance.now() - t0) / 1000);
}
async function runNaive(messages) {
  const t0 = performance.now();
  for (const m of messages) await raw.send({ topic, acks: -1, messages: [m] });
  return messages.length / ((performance.now() - t0) / 1000);
}

// Warm both paths (JIT, kafkajs buffers) with a full round each before measuring.
await runPublisher(makeEvents(20_000, "warm"));
await runRawBatch(makeEvents(20_000, "warm-raw").map(toMessage));

// Each timed run gets its own data, built just before it, and starts from a collected heap (node is
// started with --expose-gc): otherwise whichever side runs second in a round finds the other side's
// garbage, and the first side pays for promoting both sides' fresh data. Six rounds, first side
// alternating, so each side goes first equally often. Each side's figure is its total events over
// its total time.
const collect = () => globalThis.gc?.();
const timedPublisher = (round) => {
  const events = makeEvents(N / ROUNDS, `p${round}`);
  collect();
  return runPublisher(events);
};
const timedRaw = (round) => {
  const messages = makeEvents(N / ROUNDS, `r${round}`).map(toMessage); // pre-serialized: raw does no JSON work
  collect();
  return runRawBatch(messages);
};
const ROUNDS = 6;
const rounds = [];
for (let round = 0; round < ROUNDS; round++) {
  if (round % 2 === 0) {
    const publisherRate = await timedPublisher(round);
    rounds.push({ publisher: publisherRate, raw: await timedRaw(round) });
  } else {
    const rawRate = await timedRaw(round);
    rounds.push({ publisher: await timedPublisher(round), raw: rawRate });
  }
}
const naive = await runNaive(makeEvents(NAIVE, "naive").map(toMessage));
// Harmonic mean of equal-sized rounds = total events / total time.
const overall = (k) => rounds.length / rounds.reduce((sum, r) => sum + 1 / r[k], 0);
const pub = overall("publisher");
const rawAll = overall("raw");
const fmt = (n) => Math.round(n).toLocaleString("en-US");
console.log(
  `kafka bench: ${N} events per side (${ROUNDS} rounds of ${Math.round(N / ROUNDS)}), batch size ${batchSize}, broker ${brokers.join(",")}`,
);
for (const [i, r] of rounds.entries())
  console.log(`  round ${i + 1}: publisher ${fmt(r.publisher)} ev/s, raw sendBatch ${fmt(r.raw)} ev/s`);
console.log(`  publisher        ${fmt(pub)} events/s`);
console.log(`  raw sendBatch    ${fmt(rawAll)} events/s`);
console.log(`  naive send       ${fmt(naive)} events/s (${NAIVE} events, one awaited send each)`);
console.log(`  publisher / raw sendBatch = ${(pub / rawAll).toFixed(2)} (target ≥ 0.90)`);
console.log(`  publisher / naive         = ${(pub / naive).toFixed(1)}× (target ≥ 5×)`);
await publisher.close();
await raw.disconnect();
