// publishBatch against a real Redis: a batch larger than REDIS_MAX_PENDING is worked through while
// Redis is healthy (the outbox relay hands over its whole claim in one call; failing it whole made the
// relay count an attempt for every row and, in the end, park them all dead).
import { createEvent, type DomainEvent, silentLogger } from "@kaireon/events-core";
import { sampleDecision, uniqueTenant } from "@kaireon/events-testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisPublisher, redisOptions } from "../../src/index.js";
import { redisUrl, uniquePrefix } from "./redis-service.js";

let url = "";
let raw: Redis;
beforeAll(async () => {
  url = await redisUrl();
  raw = new Redis(url);
});
afterAll(() => raw?.disconnect());

describe("redis publishBatch", () => {
  it("publishes a batch larger than REDIS_MAX_PENDING, in order, in pipelines of REDIS_PIPELINE_SIZE", async () => {
    const prefix = uniquePrefix("batch");
    const publisher = createRedisPublisher(redisOptions(url, { prefix, mode: "streams", maxPending: 20, pipelineSize: 7 }), {
      logger: silentLogger,
    });
    const tenantId = uniqueTenant("batch");
    const events = Array.from({ length: 75 }, () => createEvent("decision.made.v1", sampleDecision({ tenantId })) as DomainEvent);
    try {
      const results = await publisher.publishBatch(events);
      const failed = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.code);
      expect(failed).toEqual([]);
      const stored = (await raw.xrange(`${prefix}decision.made.v1`, "-", "+")) as Array<[string, string[]]>;
      expect(stored.map(([, fields]) => JSON.parse(fields[1] as string).id)).toEqual(events.map((e) => e.id));
      expect(publisher.metrics()).toMatchObject({ published: 75, failed: 0, pending: 0 });
    } finally {
      await publisher.close();
      await raw.del(`${prefix}decision.made.v1`);
    }
  });

  it("a second batch while the first fills the queue fails fast with QUEUE_FULL (retryable), the first completes", async () => {
    const prefix = uniquePrefix("batch2");
    const publisher = createRedisPublisher(redisOptions(url, { prefix, maxPending: 10, pipelineSize: 5 }), { logger: silentLogger });
    const make = (n: number) => Array.from({ length: n }, () => createEvent("decision.made.v1", sampleDecision()) as DomainEvent);
    try {
      const first = publisher.publishBatch(make(40));
      const second = await publisher.publishBatch(make(5));
      expect(second.map((r) => r.status === "rejected" && (r.reason as { code: string }).code)).toEqual(Array(5).fill("QUEUE_FULL"));
      expect((await first).every((r) => r.status === "fulfilled")).toBe(true);
    } finally {
      await publisher.close();
    }
  });
});
