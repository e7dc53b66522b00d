// Streams mode durability against a real Redis: a subscriber that was offline gets every event
// published meanwhile, once per consumer group; consumers of one group share the work; entries a
// dead consumer read and never acknowledged are claimed (XAUTOCLAIM) by a live one.
import { createEvent, type DomainEvent, silentLogger } from "@kaireon/events-core";
import { createEventSpy, sampleDecision, uniqueTenant } from "@kaireon/events-testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createRedisPublisher, createRedisSubscriber, type RedisOptions, redisKeyOf, redisOptions } from "../../src/index.js";
import { redisUrl, uniquePrefix } from "./redis-service.js";

let url = "";
let raw: Redis;
const prefix = uniquePrefix("groups");
beforeAll(async () => {
  url = await redisUrl();
  raw = new Redis(url);
});
afterAll(async () => {
  const keys = await raw.keys(`${prefix}*`);
  if (keys.length > 0) await raw.del(...keys);
  raw.disconnect();
});

const streams = (overrides: Partial<RedisOptions> = {}) => redisOptions(url, { prefix, mode: "streams", ...overrides });
const key = () => redisKeyOf({ prefix }, "decision.made.v1");

async function readAll(group: string, options = streams()) {
  const subscriber = createRedisSubscriber(options, { logger: silentLogger });
  const spy = createEventSpy();
  const subscription = await subscriber.subscribe(["decision.made.v1"], spy.handler, { group, onError: spy.onError });
  return { spy, close: () => subscription.close().then(() => subscriber.close()) };
}

describe("redis streams: consumer groups", () => {
  it("an offline subscriber receives every event published meanwhile, once per group", async () => {
    const tenantId = uniqueTenant("offline");
    const [analytics, features] = [uniqueTenant("analytics"), uniqueTenant("features")];
    // Both groups exist (their position is "now"), then their consumers go offline.
    for (const group of [analytics, features]) await (await readAll(group)).close();

    const publisher = createRedisPublisher(streams(), { logger: silentLogger });
    const events: DomainEvent[] = Array.from({ length: 300 }, (_, i) =>
      createEvent("decision.made.v1", sampleDecision({ tenantId, customerId: `c${i % 7}`, recommendationId: String(i) })),
    );
    const results = await publisher.publishBatch(events);
    expect(results.every((r) => r.status === "fulfilled")).toBe(true);
    await publisher.close();

    // Back online: one consumer in `features`, two sharing `analytics`.
    const a1 = await readAll(analytics);
    const a2 = await readAll(analytics);
    const f = await readAll(features);
    try {
      const mine = (e: DomainEvent) => e.tenantid === tenantId;
      await f.spy.waitForCount(300, mine, 20_000);
      await new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const check = () => {
          const n = a1.spy.events.filter(mine).length + a2.spy.events.filter(mine).length;
          if (n >= 300) return resolve();
          if (Date.now() - started > 20_000) return reject(new Error(`analytics got ${n} of 300`));
          setTimeout(check, 50);
        };
        check();
      });
      // Nothing arrives twice: give redeliveries a chance to show up.
      await new Promise((r) => setTimeout(r, 500));
      const ids = (spy: typeof f.spy) => spy.events.filter(mine).map((e) => e.id);
      const expected = events.map((e) => e.id);
      expect(ids(f.spy)).toEqual(expected); // one consumer: in publish order, each once
      const shared = [...ids(a1.spy), ...ids(a2.spy)];
      expect(shared).toHaveLength(300);
      expect(new Set(shared)).toEqual(new Set(expected));
      // Everything was acknowledged.
      for (const group of [analytics, features]) {
        const [count] = (await raw.xpending(key(), group)) as [number];
        expect(Number(count)).toBe(0);
      }
    } finally {
      await Promise.all([a1.close(), a2.close(), f.close()]);
    }
  });

  it("claims entries a dead consumer read and never acknowledged (XAUTOCLAIM)", async () => {
    const tenantId = uniqueTenant("claim");
    const group = uniqueTenant("claim-group");
    await (await readAll(group)).close();
    const publisher = createRedisPublisher(streams(), { logger: silentLogger });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push((await publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: `r${i}` }))).id);
    await publisher.close();
    // A consumer reads them and dies before acknowledging.
    const read = await raw.xreadgroup("GROUP", group, "dead-consumer", "COUNT", 100, "STREAMS", key(), ">");
    expect(read).not.toBeNull();
    const [pendingBefore] = (await raw.xpending(key(), group)) as [number];
    expect(Number(pendingBefore)).toBe(20);

    const live = await readAll(group, streams({ claimIdleMs: 300 }));
    try {
      const got = await live.spy.waitForCount(20, (e) => e.tenantid === tenantId, 20_000);
      expect(got.map((e) => e.id)).toEqual(ids);
      // Acknowledged after the handler ran: poll until XACK has landed.
      await vi.waitFor(async () => expect(Number(((await raw.xpending(key(), group)) as [number])[0])).toBe(0), { timeout: 5_000 });
    } finally {
      await live.close();
    }
  });

  it("acknowledges each entry as its handler finishes: a peer's XAUTOCLAIM never takes over one already handled", async () => {
    const tenantId = uniqueTenant("slow");
    const group = uniqueTenant("slow-group");
    await (await readAll(group)).close();
    const publisher = createRedisPublisher(streams(), { logger: silentLogger });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await publisher.publish("decision.made.v1", sampleDecision({ tenantId }))).id);
    await publisher.close();

    // One XREADGROUP reads all six; each handler takes 250 ms.
    const handled = new Set<string>();
    const subscriber = createRedisSubscriber(streams(), { logger: silentLogger });
    const subscription = await subscriber.subscribe(
      ["decision.made.v1"],
      async (_event, context) => {
        await new Promise((r) => setTimeout(r, 250));
        handled.add(context.position as string);
      },
      { group },
    );
    // A peer of the group takes over whatever has been pending on someone else for 100 ms.
    const stolenAfterHandled: string[] = [];
    try {
      for (let round = 0; round < 40 && handled.size < ids.length; round++) {
        await new Promise((r) => setTimeout(r, 50));
        const handledBefore = new Set(handled);
        const [, claimed] = (await raw.xautoclaim(key(), group, "peer", 100, "0-0", "COUNT", 100, "JUSTID")) as [string, string[]];
        for (const id of claimed) if (handledBefore.has(id)) stolenAfterHandled.push(id);
      }
      expect(handled.size).toBe(ids.length);
      expect(stolenAfterHandled).toEqual([]);
      await vi.waitFor(async () => expect(Number(((await raw.xpending(key(), group)) as [number])[0])).toBe(0), { timeout: 5_000 });
    } finally {
      await subscription.close();
      await subscriber.close();
    }
  });

  it("trims each stream to about REDIS_STREAM_MAXLEN entries", async () => {
    const trimmed = `${prefix}trim:`;
    const publisher = createRedisPublisher(redisOptions(url, { prefix: trimmed, mode: "streams", streamMaxLen: 100 }), {
      logger: silentLogger,
    });
    const tenantId = uniqueTenant("trim");
    await publisher.publishBatch(Array.from({ length: 1_000 }, () => createEvent("decision.made.v1", sampleDecision({ tenantId }))));
    await publisher.close();
    const length = await raw.xlen(`${trimmed}decision.made.v1`);
    // Approximate trimming removes whole nodes only: at least 100 stay, far fewer than 1,000.
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(1_000);
  });
});
