// Faults on the wire (events-testkit's describeWireFaults): a Toxiproxy proxy between ioredis and a
// real redis-server started here with a password, so the secret check has something to find. Streams
// mode is durable: every event reported published is read back with XRANGE straight from the server.
// Pub/sub is at-most-once: what is reported published was accepted by Redis, and only the bounds,
// the settling and the recovery are checked.
import { describeWireFaults } from "@kaireon/events-testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { createRedisPublisher, createRedisSubscriber, redisKeyOf, redisOptions } from "../../src/index.js";
import { freePort, OwnRedisServer, SEND_MODES, uniquePrefix } from "./redis-service.js";

const PASSWORD = "wire-fault-Pa55word";
const PUBLISH_TIMEOUT_MS = 2_000;
const MAX_PENDING = 2_000;
const PIPELINE = 200;
const prefix = uniquePrefix("wire");
let port = 0;
let raw: Redis;

const own = new OwnRedisServer(PASSWORD);

beforeAll(async () => {
  port = await freePort();
  await own.start(port);
  raw = new Redis({ port, host: "127.0.0.1", password: PASSWORD, retryStrategy: () => 100 });
  raw.on("error", () => {});
});
afterAll(async () => {
  raw?.disconnect();
  await own.kill();
});

const options = (address: string, mode: "pubsub" | "streams", sendMode: (typeof SEND_MODES)[number]) =>
  redisOptions(`redis://:${PASSWORD}@${address}`, {
    prefix,
    mode,
    sendMode,
    publishTimeoutMs: PUBLISH_TIMEOUT_MS,
    maxPending: MAX_PENDING,
    pipelineSize: PIPELINE,
    connectTimeoutMs: 2_000,
  });

for (const sendMode of SEND_MODES)
  for (const mode of ["streams", "pubsub"] as const) {
    describeWireFaults({
      name: `redis (${mode}, ${sendMode})`,
      get upstream() {
        return `127.0.0.1:${port}`;
      },
      createPublisher: ({ address, logger }) => createRedisPublisher(options(address, mode, sendMode), { logger }),
      createSubscriber: ({ address, logger }) => createRedisSubscriber(options(address, mode, sendMode), { logger }),
      readBack:
        mode === "streams"
          ? async (tenantId) => {
              const entries = await raw.xrange(redisKeyOf({ prefix }, "decision.made.v1"), "-", "+");
              return entries
                .map(([, fields]) => JSON.parse(fields[1] as string) as { id: string; tenantid: string })
                .filter((e) => e.tenantid === tenantId)
                .map((e) => e.id);
            }
          : undefined,
      // REDIS_MAX_PENDING queued plus the pipelines in flight.
      pendingBound: MAX_PENDING + 2 * PIPELINE,
      publishTimeoutMs: PUBLISH_TIMEOUT_MS,
      secrets: [PASSWORD],
    });
  }
