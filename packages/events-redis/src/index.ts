// @kaireon/events-redis: the default backend. `backend` is what core's loader imports.

import { defineBackend } from "@kaireon/events-core/backend";
import { type RedisOptions, redisDisabledReason, redisOptionsFromEnv } from "./redis-options.js";
import { createRedisPublisher } from "./redis-publisher.js";
import { createRedisSubscriber } from "./redis-subscriber.js";

export { keyOf as redisKeyOf } from "./redis-client.js";
export {
  parseRedisEnv,
  type RedisConfig,
  type RedisMode,
  type RedisOptions,
  type RedisSendMode,
  redisOptions,
  redisOptionsFromEnv,
  resolveRedisConfig,
} from "./redis-options.js";
export { createRedisPublisher, RedisPublisher, type RedisPublisherContext } from "./redis-publisher.js";
export { groupStartId } from "./redis-stream-ids.js";
export { createRedisSubscriber, RedisSubscriber, type RedisSubscriberContext } from "./redis-subscriber.js";

export const backend = defineBackend<RedisOptions>({
  id: "redis",
  fromEnv: redisOptionsFromEnv,
  disabledReason: redisDisabledReason,
  createPublisher: (options, context) => createRedisPublisher(options, { source: context.source, logger: context.logger }),
  createSubscriber: (options, context) => createRedisSubscriber(options, { logger: context.logger }),
});
