// kafkajs 2 logs a warning for every process that makes a producer without `createPartitioner`
// ("KafkaJS v2.0.0 switched default partitioner …"): every application on the kafkajs client had it
// in its logs, once per process. The publisher names kafkajs' default partitioner (the Java-compatible
// murmur2 one, what it used anyway and what platformatic's compatibilityPartitioner matches), so
// nothing is logged. Its own file: kafkajs warns once per module instance.

import { recordingLogger, sampleDecision } from "@kaireon/events-testkit";
import { expect, it } from "vitest";
import { createKafkaPublisher, resolveKafkaOptions } from "../../src/index.js";

it("a kafkajs publisher logs no partitioner warning when its producer is made", async () => {
  delete process.env.KAFKAJS_NO_PARTITIONER_WARNING;
  const logger = recordingLogger();
  // A closed port: the producer is made by the first publish's connect, which then fails fast.
  const publisher = createKafkaPublisher(
    resolveKafkaOptions({ client: "kafkajs", brokers: ["127.0.0.1:1"], publishTimeoutMs: 1000, connectionTimeoutMs: 200 }),
    { logger },
  );
  await publisher.publish("decision.made.v1", sampleDecision()).catch(() => {});
  await publisher.close();
  expect(logger.messages("warn", "error").filter((m) => /partitioner/i.test(m))).toEqual([]);
});
