// End to end on MSK (EVENT_PUBLISHER=aws_msk) in SCRAM mode, against the real Apache Kafka broker of
// tooling/services/kafka.sh: SCRAM-SHA-512 over its SASL_SSL listener, verified against the broker's CA,
// as MSK's port 9096 requires. Not real: MSK itself (the broker is Apache Kafka).
import { silentLogger } from "@kaireon/events-core";
import { ensureTopics } from "@kaireon/events-kafka";
import { readMskOptions, toKafkaOptions } from "@kaireon/events-msk";
import { requireService } from "@kaireon/events-testkit";
import { it } from "vitest";
import { runBackendScenario } from "./e2e-support.js";

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through tooling/with-services.sh (KAIREON_SERVICES=kafka), which starts the broker`);
  return value;
}

it("respond → the event arrives at an MSK (SCRAM over TLS) consumer, equal to the stored row", async () => {
  await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  const run = `demo-e2e-msk-${Date.now()}`;
  const env = {
    EVENT_PUBLISHER: "aws_msk",
    MSK_BROKERS: need("KAFKA_TEST_SASL_TLS_BROKERS"),
    MSK_TLS_ENABLED: "true",
    MSK_TLS_CA_FILE: need("KAFKA_TEST_TLS_CA_FILE"),
    MSK_AUTH_MODE: "sasl_scram",
    MSK_SASL_USERNAME: need("KAFKA_TEST_SCRAM_USERNAME"),
    MSK_SASL_PASSWORD: need("KAFKA_TEST_SCRAM_PASSWORD"),
    MSK_REGION: "eu-west-1",
    MSK_TOPIC_PREFIX: `${run}.`,
    MSK_CONSUMER_GROUP_ID: run,
  };
  // Consumers subscribe before the first publish: create the topics first, as a deployment would.
  await ensureTopics(toKafkaOptions(readMskOptions(env)).kafka, { partitions: 3, replicationFactor: 1, logger: silentLogger });
  await runBackendScenario(env, "msk");
});
