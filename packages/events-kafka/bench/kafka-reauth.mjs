// SASL re-authentication (KIP-368) under load, per client: the SASL_SSL listener of a private broker
// caps SCRAM-SHA-512 sessions at KAFKA_TEST_REAUTH_MS (tooling/services/kafka.sh), so a connection that
// does not re-authenticate in time is cut off by the broker — what an MSK IAM session limit does. For
// each client a publisher and a subscriber run for REAUTH_SECONDS (default 60), one publish every
// REAUTH_INTERVAL_MS (default 20) awaited in a window of 50; then the subscriber gets 30 s to catch up.
// Prints failed publishes, delivered and lost events per client. kafkajs re-authenticates
// reauthenticationThreshold ms before a session ends (its default 10 s is longer than these sessions,
// so it would re-authenticate before every request): REAUTH_KAFKAJS_THRESHOLD_MS (default 1000) sets it. Run it with its own broker:
//   pnpm --filter @kaireon/events-kafka reauth
import { readFileSync } from "node:fs";
import { createEvent, silentLogger } from "@kaireon/events-core";
import { createKafkaPublisher, createKafkaSubscriber, ensureTopics, kafkaClients, resolveKafkaOptions } from "../dist/index.js";

for (const name of [
  "KAFKA_BROKERS",
  "KAFKA_TEST_SASL_TLS_BROKERS",
  "KAFKA_TEST_TLS_CA_FILE",
  "KAFKA_TEST_SCRAM_USERNAME",
  "KAFKA_TEST_SCRAM_PASSWORD",
  "KAFKA_TEST_REAUTH_MS",
])
  if (!process.env[name]) {
    console.error(`${name} is not set — run: pnpm --filter @kaireon/events-kafka reauth (a private broker with KAFKA_TEST_REAUTH_MS)`);
    process.exit(1);
  }
const seconds = Number(process.env.REAUTH_SECONDS ?? 60);
const intervalMs = Number(process.env.REAUTH_INTERVAL_MS ?? 20);
const clients = (process.env.REAUTH_CLIENTS ?? kafkaClients.join(",")).split(",");
const base = {
  brokers: process.env.KAFKA_TEST_SASL_TLS_BROKERS.split(","),
  ssl: { ca: [readFileSync(process.env.KAFKA_TEST_TLS_CA_FILE, "utf8")] },
  sasl: { mechanism: "scram-sha-512", username: process.env.KAFKA_TEST_SCRAM_USERNAME, password: process.env.KAFKA_TEST_SCRAM_PASSWORD },
  publishTimeoutMs: 10_000,
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run(client) {
  const threshold = Number(process.env.REAUTH_KAFKAJS_THRESHOLD_MS ?? 1000);
  const reauth = client === "kafkajs" && threshold > 0 ? { reauthenticationThresholdMs: threshold } : {};
  const options = resolveKafkaOptions({
    ...base,
    ...reauth,
    client,
    topicPrefix: `reauth-${client}-${Date.now().toString(36)}.`,
    clientId: `kaireon-reauth-${client}`,
  });
  // Topics over PLAINTEXT: what is measured is the SASL_SSL clients, not the setup.
  const plain = resolveKafkaOptions({ brokers: process.env.KAFKA_BROKERS.split(","), topicPrefix: options.topicPrefix });
  await ensureTopics(plain, { topics: ["decision.made.v1"], partitions: 3, replicationFactor: 1, logger: silentLogger });
  const warnings = [];
  const logger = { ...silentLogger, warn: (m) => warnings.push(String(m)), error: (m) => warnings.push(String(m)) };
  const delivered = new Set();
  const subscriberErrors = [];
  const subscriber = createKafkaSubscriber(options, { logger });
  // A subscribe that fails is counted, and the publishes still run.
  await subscriber
    .subscribe(["decision.made.v1"], (event) => void delivered.add(event.id), {
      group: `reauth-${client}-${Date.now()}`,
      from: "earliest",
      onError: (e) => subscriberErrors.push(`${e.error?.code}: ${e.error?.message}`),
    })
    .catch((e) => subscriberErrors.push(`subscribe failed: ${e?.code}: ${e?.message}`));
  const publisher = createKafkaPublisher(options, { logger });
  const published = new Set();
  const failures = new Map();
  const inflight = new Set();
  const end = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < end; i++) {
    const event = createEvent("decision.made.v1", {
      tenantId: "reauth",
      customerId: `cust-${i % 20}`,
      recommendationId: String(i),
      offersReturned: 1,
      topOfferId: "o",
      topPropensity: 0.5,
      decisionFlowKey: "f",
      timestamp: new Date().toISOString(),
    });
    const p = publisher.publishEvent(event).then(
      () => void published.add(event.id),
      (e) => failures.set(e?.code ?? "?", (failures.get(e?.code ?? "?") ?? 0) + 1),
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    if (inflight.size >= 50) await Promise.race(inflight);
    await sleep(intervalMs);
  }
  await Promise.all(inflight);
  const deadline = Date.now() + (subscriberErrors.some((e) => e.startsWith("subscribe failed")) ? 0 : 30_000);
  while (Date.now() < deadline && [...published].some((id) => !delivered.has(id))) await sleep(250);
  const lost = [...published].filter((id) => !delivered.has(id)).length;
  await publisher.close();
  await subscriber.close();
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  return {
    client,
    published: published.size,
    failed,
    failures: Object.fromEntries(failures),
    delivered: delivered.size,
    lost,
    subscriberErrors: subscriberErrors.length,
    warnings: warnings.length,
    firstError: subscriberErrors[0] ?? warnings[0],
  };
}

console.log(
  `re-authentication run: SCRAM-SHA-512 over SASL_SSL, sessions capped at ${process.env.KAFKA_TEST_REAUTH_MS} ms, ${seconds} s per client, a publish every ${intervalMs} ms, node ${process.version}`,
);
for (const client of clients) {
  const r = await run(client);
  console.log(
    `  ${client.padEnd(12)} published ${r.published}, failed ${r.failed} ${JSON.stringify(r.failures)}, delivered ${r.delivered}, lost ${r.lost}; subscriber errors ${r.subscriberErrors}, warnings ${r.warnings}${r.firstError ? ` (first: ${r.firstError.slice(0, 200)})` : ""}`,
  );
}
