// The shared conformance suite against a real Redis, Streams mode (REDIS_MODE=streams): durable,
// replayable from earliest or a time (stream ids carry the server's milliseconds), per-key order.
import { silentLogger } from "@kaireon/events-core";
import { describeBackendConformance } from "@kaireon/events-testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { createRedisPublisher, createRedisSubscriber, redisKeyOf, redisOptions } from "../../src/index.js";
import { redisUrl, SEND_MODES, uniquePrefix } from "./redis-service.js";

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

const options = (sendMode: (typeof SEND_MODES)[number]) => redisOptions(url, { sendMode, prefix, mode: "streams" });

for (const sendMode of SEND_MODES) {
  describeBackendConformance({
    name: `redis (streams, ${sendMode})`,
    createPublisher: () => createRedisPublisher(options(sendMode), { logger: silentLogger }),
    createQueueBoundPublisher: (maxPending) =>
      createRedisPublisher({ ...options(sendMode), maxPending, pipelineSize: 4 }, { logger: silentLogger }),
    createSubscriber: () => createRedisSubscriber(options(sendMode), { logger: silentLogger }),
    capabilities: { perKeyOrder: true, replay: true, replayFromTime: true, receivers: false },
    createUnreachablePublisher: () =>
      createRedisPublisher(redisOptions("redis://127.0.0.1:1", { sendMode, mode: "streams", publishTimeoutMs: 1_000 }), {
        logger: silentLogger,
      }),
    injectRaw: async (topic, text) => {
      await raw.xadd(redisKeyOf({ prefix }, topic), "*", "event", text);
    },
  });
}
