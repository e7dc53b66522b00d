// End to end on Apache Kafka: the real single-node KRaft broker started by tooling/services/kafka.sh.
// Topic names get a per-run prefix so earlier runs' events cannot be mistaken for this run's.
import { silentLogger } from "@kaireon/events-core";
import { backend, ensureTopics } from "@kaireon/events-kafka";
import { requireService } from "@kaireon/events-testkit";
import { it } from "vitest";
import { runBackendScenario } from "./e2e-support.js";

it("respond → the event arrives at a Kafka consumer, equal to the stored row", async () => {
  const KAFKA_BROKERS = await requireService({ variable: "KAFKA_BROKERS", name: "Kafka broker" });
  const env = {
    EVENT_PUBLISHER: "kafka",
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: `demo-e2e-${Date.now()}.`,
    KAFKA_CONSUMER_GROUP_ID: `demo-e2e-${Date.now()}`,
  };
  // Consumers subscribe before the first publish: create the topics first, as a deployment would.
  await ensureTopics(backend.fromEnv(env)!, { partitions: 3, logger: silentLogger });
  await runBackendScenario(env, "kafka");
});
