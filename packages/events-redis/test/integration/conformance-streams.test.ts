// The shared conformance suite against a real Redis, Streams mode (REDIS_MODE=streams): durable,
// replayable from earliest or a time (stream ids carry the server's milliseconds), per-key order.
import { silentLogger } from "@kaireon/events-core";
import { describePublisherConformance } from "@kaireon/events-testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { createRedisPublisher, createRedisSubscriber, redisKeyOf, redisOptions } from "../../src/index.js";
import { redisUrl, uniquePrefix } from "./redis-service.js";

let url = "";
let raw: Redis;
const prefix = uniquePrefix("streams");
beforeAll(async () => {
  url = await redisUrl();
  raw = new Redis(url);
});
afterAll(async () => {
  const keys = await raw.keys(`${prefix}*`);
  if (keys.length > 0) await raw.del(...keys);
  raw.disconnect();
});

const options = () => redisOptions(url, { prefix, mode: "streams" });

describePublisherConformance({
  name: "redis (streams)",
  createPublisher: () => createRedisPublisher(options(), { logger: silentLogger }),
  createSubscriber: () => createRedisSubscriber(options(), { logger: silentLogger }),
  capabilities: { perKeyOrder: true, replay: true, replayFromTime: true, receivers: false },
  createUnreachablePublisher: () =>
    createRedisPublisher(redisOptions("redis://127.0.0.1:1", { mode: "streams", publishTimeoutMs: 1_000 }), { logger: silentLogger }),
  injectRaw: async (topic, text) => {
    await raw.xadd(redisKeyOf({ prefix }, topic), "*", "event", text);
  },
});
