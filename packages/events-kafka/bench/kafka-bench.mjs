// Publisher throughput against the raw clients, on the same broker in the same run:
//   publisher(kafkajs), publisher(platformatic) — N concurrent publishEvent() calls of ready
//                envelopes: what the outbox relay hands the publisher (a stored row's JSON kept as the
//                event's wire form, events-outbox fromPayload), with the same bytes the raw paths get.
//                The Batcher gathers them into sendBatch calls, KAFKA_CLIENT=kafkajs / platformatic
//   publisher(platformatic) serializing — the same with envelopes fresh from createEvent (the JSON
//                is made inside the timed run, which no raw path does); reported, not in the ratios
//   raw kafkajs sendBatch — the same events pre-serialized (same bytes, key and content-type header),
//                same batch size, same producer settings (idempotent, acks=all, maxInFlightRequests 1),
//                one batch after the other
//   raw platformatic send — the same with @platformatic/kafka's idempotent producer send() and
//                compatibilityPartitioner, the headers in the library's own form (a Map)
//   raw platformatic send, seam partitioner — the same with the partitioner the seam gives the
//                library (javaPartitioner: the same hash as compatibilityPartitioner, in integer
//                arithmetic instead of BigInt): shows how much of the publisher's lead over raw send
//                is that partitioner; reported, not in the ratios
//   naive      — one awaited kafkajs send() per event (what a straightforward integration does)
// CPU µs/event is process.cpuUsage() (user + system) over each timed run: the paths run one at a
// time, so it is that path's cost in this process (GC included). Targets: publisher(platformatic) ≥
// 2.0 × raw kafkajs sendBatch and ≥ 0.9 × raw platformatic send. Needs KAFKA_BROKERS
// (tooling/with-services.sh). BENCH_EVENTS (default 120000), BENCH_ROUNDS (default 6),
// BENCH_NAIVE_EVENTS (default 2000), KAFKA_BATCH_SIZE (default 500).
import { CLOUDEVENTS_CONTENT_TYPE, createEvent, serializeEvent, silentLogger, trusted } from "@kaireon/events-core";
import { compatibilityPartitioner, Producer, stringSerializers } from "@platformatic/kafka";
import { Kafka, logLevel } from "kafkajs";
import { createKafkaPublisher, ensureTopics, resolveKafkaOptions } from "../dist/index.js";
import { javaPartitioner } from "../dist/kafka-client-platformatic.js";

const brokers = process.env.KAFKA_BROKERS?.split(",");
if (!brokers) {
  console.error("KAFKA_BROKERS is not set — run: bash tooling/with-services.sh pnpm --filter @kaireon/events-kafka bench");
  process.exit(1);
}
const N = Number(process.env.BENCH_EVENTS ?? 120_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
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
// The raw paths' pre-serialized value: the envelope's JSON (same bytes as the publisher sends) as a
// flat string, as JSON.stringify or a database driver hands it over. serializeEvent's own result is
// built by concatenation (a V8 rope); kept from before the timed run into old space, it cost raw
// kafkajs about 9 CPU µs/event more to encode (31 vs 22, measured), which flattered every ratio to it.
const flat = (text) => Buffer.from(text, "utf8").toString("utf8");
const toMessage = (e) => ({ key: e.partitionkey, value: flat(serializeEvent(e)), headers: { "content-type": CLOUDEVENTS_CONTENT_TYPE } });
// The publishers' input, made from the same flat JSON: the envelope as the outbox relay rebuilds it
// from a stored row, its text kept as the wire form. Before, the publishers got envelopes fresh from
// createEvent and made their JSON inside the timed run while the raw paths got theirs made before it;
// that JSON, and the collection of 20,000 new strings the waiting events hold, cost the publisher
// on platformatic about 2 µs/event that no raw path paid (the "serializing" path still shows it).
const ready = (e) => {
  const json = flat(serializeEvent(e));
  return trusted(JSON.parse(json), json);
};

// The publishers first: making the kafkajs one stops kafkajs' 1 ms idle polling of its connections
// (src/kafkajs-idle-poll.ts), for the raw kafkajs producer too, before any of them connects —
// otherwise the idle producers' timers would be billed to whichever path runs.
const publishers = {
  kafkajs: createKafkaPublisher({ ...options, client: "kafkajs" }, { logger: silentLogger }),
  platformatic: createKafkaPublisher({ ...options, client: "platformatic" }, { logger: silentLogger }),
};
const kafka = new Kafka({ brokers, clientId: "kaireon-bench-raw", logLevel: logLevel.NOTHING });
const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await raw.connect();
const rawPlatformatic = (clientId, partitioner) =>
  new Producer({ clientId, bootstrapBrokers: brokers, idempotent: true, acks: -1, partitioner, serializers: stringSerializers });
const plt = rawPlatformatic("kaireon-bench-raw-platformatic", compatibilityPartitioner);
const pltSeamPartitioner = rawPlatformatic("kaireon-bench-raw-platformatic-seam-partitioner", javaPartitioner);
/** One awaited send() per batch of the pre-serialized messages. */
const sendAll = async (producer, messages) => {
  for (let i = 0; i < messages.length; i += batchSize) await producer.send({ messages: messages.slice(i, i + batchSize) });
};

/** events/s and CPU µs/event of one timed run. */
async function timed(n, run) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rate: n / seconds, cpu: (cpu.user + cpu.system) / n };
}
const paths = {
  "publisher(kafkajs)": { input: "ready", run: (events) => Promise.all(events.map((e) => publishers.kafkajs.publishEvent(e))) },
  "publisher(platformatic)": { input: "ready", run: (events) => Promise.all(events.map((e) => publishers.platformatic.publishEvent(e))) },
  "publisher(platformatic) serializing": {
    input: "fresh",
    run: (events) => Promise.all(events.map((e) => publishers.platformatic.publishEvent(e))),
  },
  "raw kafkajs sendBatch": {
    input: "messages",
    run: async (messages) => {
      for (let i = 0; i < messages.length; i += batchSize)
        await raw.sendBatch({ acks: -1, topicMessages: [{ topic, messages: messages.slice(i, i + batchSize) }] });
    },
  },
  "raw platformatic send": {
    input: "library messages",
    run: (messages) => sendAll(plt, messages),
  },
  "raw platformatic send, seam partitioner": {
    input: "library messages",
    run: (messages) => sendAll(pltSeamPartitioner, messages),
  },
};
const names = Object.keys(paths);
// kafkajs takes the topic per request; @platformatic/kafka per message, and its headers as a Map
// (an object it converts per message, inside the timed run — the publisher hands it a Map).
const withTopic = (m) => ({ ...m, topic });
const libraryMessage = (m) => ({ ...m, topic, headers: new Map(Object.entries(m.headers)) });
const inputs = {
  ready: (events) => events.map(ready),
  fresh: (events) => events,
  messages: (events) => events.map(toMessage).map(withTopic),
  "library messages": (events) => events.map(toMessage).map(libraryMessage),
};

// Each timed run gets its own data, built just before it, and starts from a collected heap (node is
// started with --expose-gc): otherwise whichever path runs after another finds its garbage. The
// order rotates every round, so each path runs first (and last) equally often. Each path's figure
// is its total events over its total time.
const collect = () => globalThis.gc?.();
async function measure(name, n, label) {
  const path = paths[name];
  const events = makeEvents(n, label);
  const input = inputs[path.input](events); // everything but "fresh" is pre-serialized: no JSON work in the run
  collect();
  return timed(n, () => path.run(input));
}

// Warm every path (JIT, client buffers, connections) with a round each before measuring.
for (const name of names) await measure(name, 20_000, `warm-${name}`);

const perRound = Math.round(N / ROUNDS);
const rounds = [];
for (let round = 0; round < ROUNDS; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  const result = {};
  for (const name of order) result[name] = await measure(name, perRound, `${round}-${name}`);
  rounds.push({ order, result });
}
const naive = await timed(NAIVE, async () => {
  for (const m of makeEvents(NAIVE, "naive").map(toMessage)) await raw.send({ topic, acks: -1, messages: [m] });
});

// Harmonic mean of equal-sized rounds = total events / total time; CPU is the plain mean.
const overall = (name) => rounds.length / rounds.reduce((sum, r) => sum + 1 / r.result[name].rate, 0);
const cpuOf = (name) => rounds.reduce((sum, r) => sum + r.result[name].cpu, 0) / rounds.length;
const fmt = (n) => Math.round(n).toLocaleString("en-US");
console.log(
  `kafka bench: ${perRound * ROUNDS} events per path (${ROUNDS} rounds of ${perRound}), batch size ${batchSize}, broker ${brokers.join(",")}, node ${process.version}`,
);
for (const [i, r] of rounds.entries())
  console.log(
    `  round ${i + 1}: ${r.order.map((name) => `${name} ${fmt(r.result[name].rate)} ev/s ${r.result[name].cpu.toFixed(1)} µs`).join(" | ")}`,
  );
for (const name of names)
  console.log(`  ${name.padEnd(40)} ${fmt(overall(name)).padStart(9)} events/s  ${cpuOf(name).toFixed(1)} CPU µs/event`);
console.log(
  `  ${"naive kafkajs send".padEnd(40)} ${fmt(naive.rate).padStart(9)} events/s  ${naive.cpu.toFixed(1)} CPU µs/event (${NAIVE} events, one awaited send each)`,
);
console.log(
  `publisher(platformatic) / raw kafkajs sendBatch = ${(overall("publisher(platformatic)") / overall("raw kafkajs sendBatch")).toFixed(2)}`,
);
console.log(
  `publisher(platformatic) / raw platformatic send = ${(overall("publisher(platformatic)") / overall("raw platformatic send")).toFixed(2)}`,
);
console.log(
  `  publisher(kafkajs) / raw kafkajs sendBatch = ${(overall("publisher(kafkajs)") / overall("raw kafkajs sendBatch")).toFixed(2)} (target ≥ 0.90)`,
);
console.log(
  `  publisher(platformatic) serializing / raw platformatic send = ${(overall("publisher(platformatic) serializing") / overall("raw platformatic send")).toFixed(2)} (JSON made in the run)`,
);
console.log(
  `  publisher(platformatic) / raw platformatic send, seam partitioner = ${(overall("publisher(platformatic)") / overall("raw platformatic send, seam partitioner")).toFixed(2)} (the same partitioner on both sides)`,
);
console.log(`  publisher(platformatic) / naive          = ${(overall("publisher(platformatic)") / naive.rate).toFixed(1)}× (target ≥ 5×)`);
await Promise.all([publishers.kafkajs.close(), publishers.platformatic.close(), plt.close(), pltSeamPartitioner.close(), raw.disconnect()]);
