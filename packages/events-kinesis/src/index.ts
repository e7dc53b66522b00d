// @kaireon/events-kinesis: EVENT_PUBLISHER=kinesis.

import { defineBackend } from "@kaireon/events-core/backend";
import { kinesisOptionsFromEnv } from "./kinesis-options.js";
import { createKinesisPublisher } from "./kinesis-publisher.js";
import { createKinesisSubscriber } from "./kinesis-subscriber.js";

export {
  type KinesisCheckpoint,
  type KinesisCheckpointKey,
  type KinesisCheckpointStore,
  MemoryCheckpointStore,
} from "./kinesis-checkpoints.js";
export { createKinesisClient, kinesisPartitionKey, streamParams } from "./kinesis-client.js";
export { KINESIS_LIMITS, type KinesisConfig, type KinesisOptions, kinesisOptions, kinesisOptionsFromEnv } from "./kinesis-options.js";
export {
  createKinesisPublisher,
  KinesisPublisher,
  type KinesisPublisherContext,
  type KinesisPublisherOptions,
} from "./kinesis-publisher.js";
export {
  createKinesisSubscriber,
  KinesisSubscriber,
  type KinesisSubscriberContext,
  type KinesisSubscriberOptions,
} from "./kinesis-subscriber.js";

export const backend = defineBackend({
  id: "kinesis",
  fromEnv: kinesisOptionsFromEnv,
  createPublisher: (options, context) => createKinesisPublisher(options, { source: context.source, logger: context.logger }),
  createSubscriber: (options, context) => createKinesisSubscriber(options, { logger: context.logger }),
});
