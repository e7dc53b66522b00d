// The shared conformance suite against a real Redis, pub/sub mode (the default). One connection
// writes every pipeline in order, so per-key order holds; pub/sub keeps nothing, so no replay.
import { silentLogger } from "@kaireon/events-core";
import { describeBackendConformance } from "@kaireon/events-testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { createRedisPublisher, createRedisSubscriber, redisKeyOf, redisOptions } from "../../src/index.js";
import { redisUrl, SEND_MODES, uniquePrefix } from "./redis-service.js";

let url = "";
let raw: Redis;
const prefix = uniquePrefix("pubsub");
beforeAll(async () => {
  url = await redisUrl();
  raw = new Redis(url);
});
afterAll(() => raw?.disconnect());

const options = (sendMode: (typeof SEND_MODES)[number]) => redisOptions(url, { sendMode, prefix });

for (const sendMode of SEND_MODES) {
  describeBackendConformance({
    name: `redis (pub/sub, ${sendMode})`,
    createPublisher: () => createRedisPublisher(options(sendMode), { logger: silentLogger }),
    createQueueBoundPublisher: (maxPending) =>
      createRedisPublisher({ ...options(sendMode), maxPending, pipelineSize: 4 }, { logger: silentLogger }),
    createSubscriber: () => createRedisSubscriber(options(sendMode), { logger: silentLogger }),
    capabilities: { perKeyOrder: true, replay: false, replayFromTime: false, receivers: true },
    // Port 1 on loopback: nothing listens there.
    createUnreachablePublisher: () =>
      createRedisPublisher(redisOptions("redis://127.0.0.1:1", { sendMode, publishTimeoutMs: 1_000 }), { logger: silentLogger }),
    injectRaw: async (topic, text) => {
      await raw.publish(redisKeyOf({ prefix }, topic), text);
    },
  });
}
