// Pub/sub subscriber behaviour against a real Redis: it resubscribes by itself after its connection
// is killed (CLIENT KILL), a failing handler is reported and the subscription goes on, and replay is
// refused with a message that points at streams mode.
import { type EventsError, silentLogger } from "@kaireon/events-core";
import { createEventSpy, sampleDecision, uniqueTenant } from "@kaireon/events-testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisPublisher, createRedisSubscriber, redisOptions } from "../../src/index.js";
import { redisUrl, uniquePrefix } from "./redis-service.js";

let url = "";
let raw: Redis;
const prefix = uniquePrefix("sub");
beforeAll(async () => {
  url = await redisUrl();
  raw = new Redis(url);
});
afterAll(() => raw?.disconnect());

describe("redis pub/sub subscriber", () => {
  it("resubscribes after its connection is killed, and keeps delivering", async () => {
    const tenantId = uniqueTenant("kill");
    const publisher = createRedisPublisher(redisOptions(url, { prefix }), { logger: silentLogger });
    const subscriber = createRedisSubscriber(redisOptions(url, { prefix }), { logger: silentLogger });
    const spy = createEventSpy();
    await subscriber.subscribe(["decision.made.v1"], spy.handler, { onError: spy.onError });
    try {
      const before = await publisher.publish("decision.made.v1", sampleDecision({ tenantId }));
      expect(before.receivers).toBe(1);
      await spy.waitFor("decision.made.v1", (e) => e.id === before.id);

      const killed = Number(await raw.call("CLIENT", "KILL", "TYPE", "pubsub"));
      expect(killed).toBeGreaterThanOrEqual(1);

      // Events published before the resubscription lands are lost (pub/sub keeps nothing):
      // publish until one is received again.
      let back: string | undefined;
      for (let i = 0; i < 100 && !back; i++) {
        const r = await publisher.publish("decision.made.v1", sampleDecision({ tenantId }));
        if (r.receivers === 1) back = r.id;
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(back).toBeDefined();
      await spy.waitFor("decision.made.v1", (e) => e.id === back);
    } finally {
      await publisher.close();
      await subscriber.close();
    }
  });

  it("reports a failing handler and goes on", async () => {
    const tenantId = uniqueTenant("throw");
    const publisher = createRedisPublisher(redisOptions(url, { prefix }), { logger: silentLogger });
    const subscriber = createRedisSubscriber(redisOptions(url, { prefix }), { logger: silentLogger });
    const spy = createEventSpy();
    let calls = 0;
    await subscriber.subscribe(
      ["decision.made.v1"],
      async (event, context) => {
        calls++;
        if (calls === 1) throw new Error("boom");
        await spy.handler(event, context);
      },
      // One attempt: the shared handler contract would otherwise call it again, and the retry succeeds.
      { onError: spy.onError, handlerAttempts: 1 },
    );
    try {
      await publisher.publish("decision.made.v1", sampleDecision({ tenantId }));
      const second = await publisher.publish("decision.made.v1", sampleDecision({ tenantId }));
      await spy.waitFor("decision.made.v1", (e) => e.id === second.id);
      const [failure] = await spy.waitForErrors(1);
      expect(failure?.error.code).toBe("HANDLER_FAILED");
      expect(failure?.error.message).toContain("boom");
    } finally {
      await publisher.close();
      await subscriber.close();
    }
  });

  it("refuses replay in pub/sub mode and names REDIS_MODE", async () => {
    const subscriber = createRedisSubscriber(redisOptions(url, { prefix }), { logger: silentLogger });
    const error = (await subscriber
      .subscribe(["decision.made.v1"], () => {}, { from: "earliest" })
      .catch((e: unknown) => e)) as EventsError;
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain("REDIS_MODE=streams");
    await subscriber.close();
  });
});
