// @kaireon/events-kafka: EVENT_PUBLISHER=kafka (or redpanda). `backend` is what core's loader imports;
// the create* functions and KafkaOptions let packages built on this one (MSK) bring their own SASL/TLS.

import { defineBackend } from "@kaireon/events-core/backend";
import { kafkaOptionsFromEnv } from "./kafka-options.js";
import { createKafkaPublisher } from "./kafka-publisher.js";
import { createKafkaSubscriber } from "./kafka-subscriber.js";

export { DEFAULT_KAFKA_CLIENT, type KafkaClientName, type KafkaCompression, type KafkaSasl, kafkaClients } from "./kafka-client.js";
export {
  compressions,
  type KafkaErrorHints,
  type KafkaOptions,
  kafkaClientVariable,
  kafkaEnvSchema,
  kafkaOptionsFromEnv,
  resolveKafkaOptions,
  saslMechanisms,
} from "./kafka-options.js";
export { createKafkaPublisher, KafkaPublisher, type KafkaPublisherContext } from "./kafka-publisher.js";
export {
  createKafkaSubscriber,
  KafkaSubscriber,
  type KafkaSubscriberContext,
  type KafkaSubscriberOptions,
} from "./kafka-subscriber.js";
export { type EnsureTopicsOptions, ensureTopics } from "./kafka-topics.js";

export const backend = defineBackend({
  id: "kafka",
  fromEnv: (env) => kafkaOptionsFromEnv(env),
  createPublisher: (options, context) => createKafkaPublisher(options, { source: context.source, logger: context.logger }),
  createSubscriber: (options, context) => createKafkaSubscriber(options, { logger: context.logger }),
});
