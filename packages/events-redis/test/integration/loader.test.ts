// The way applications get this backend: core's loader with EVENT_PUBLISHER=redis (or unset) and
// REDIS_URL, against a real Redis.
import { loadPublisher, loadSubscriber, silentLogger } from "@kaireon/events-core";
import { createEventSpy, sampleInteraction, uniqueTenant } from "@kaireon/events-testkit";
import { beforeAll, describe, expect, it } from "vitest";
import type { RedisPublisher } from "../../src/index.js";
import { redisUrl, uniquePrefix } from "./redis-service.js";

let url = "";
beforeAll(async () => {
  url = await redisUrl();
});

describe("loading the redis backend from the environment", () => {
  it("EVENT_PUBLISHER unset + REDIS_URL: publishes and subscribes through the loader", async () => {
    const env = { REDIS_URL: url, REDIS_CHANNEL_PREFIX: uniquePrefix("loader"), EVENT_SOURCE: "loader-test" };
    const publisher = await loadPublisher(env, { logger: silentLogger });
    const subscriber = await loadSubscriber(env, { logger: silentLogger });
    expect(publisher.backend).toBe("redis");
    const spy = createEventSpy();
    await subscriber.subscribe(["interaction.recorded.v1"], spy.handler, { onError: spy.onError });
    try {
      const tenantId = uniqueTenant();
      const result = await publisher.publish("interaction.recorded.v1", sampleInteraction({ tenantId }));
      expect(result).toMatchObject({ backend: "redis", status: "published", receivers: 1 });
      const got = await spy.waitFor("interaction.recorded.v1", (e) => e.id === result.id);
      expect(got.source).toBe("loader-test");
    } finally {
      await publisher.close();
      await subscriber.close();
    }
  });

  it("REDIS_MODE=streams selects the durable mode", async () => {
    const publisher = await loadPublisher(
      { EVENT_PUBLISHER: "redis", REDIS_URL: url, REDIS_MODE: "streams", REDIS_CHANNEL_PREFIX: uniquePrefix("loader-s") },
      { logger: silentLogger },
    );
    try {
      expect((publisher as RedisPublisher).mode).toBe("streams");
      const result = await publisher.publish("interaction.recorded.v1", sampleInteraction({ tenantId: uniqueTenant() }));
      expect(result.position).toMatch(/^\d+-\d+$/);
    } finally {
      await publisher.close();
    }
  });
});
