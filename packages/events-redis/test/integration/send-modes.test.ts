// REDIS_SEND_MODE against real servers: script calls (several keys and runs per call, one bad key's
// error kept to its messages, the script cache lost mid-run) and the automatic fallback to plain
// pipelines on a redis-server whose scripting commands are renamed away, as some managed services do.
import { createEvent, type DomainEvent, type Logger, silentLogger } from "@kaireon/events-core";
import { sampleDecision, sampleInteraction, Toxiproxy, uniqueTenant } from "@kaireon/events-testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisPublisher, createRedisSubscriber, redisKeyOf, redisOptions } from "../../src/index.js";
import { PUBLISH_SCRIPT, scriptArgs, XADD_SCRIPT } from "../../src/redis-scripts.js";
import { freePort, OwnRedisServer, redisUrl, uniquePrefix } from "./redis-service.js";

let url = "";
let raw: Redis;
beforeAll(async () => {
  url = await redisUrl();
  raw = new Redis(url);
});
afterAll(() => raw?.disconnect());

const decisions = (n: number, tenantId = uniqueTenant("send")) =>
  Array.from({ length: n }, () => createEvent("decision.made.v1", sampleDecision({ tenantId })) as DomainEvent);
const interactions = (n: number) =>
  Array.from({ length: n }, () => createEvent("interaction.recorded.v1", sampleInteraction()) as DomainEvent);

function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = (message: string) => lines.push(message);
  return { lines, logger: { debug: log, info: log, warn: log, error: log } };
}

describe("redis REDIS_SEND_MODE=script", () => {
  it("streams: interleaved keys across several script calls keep order, and every result is the entry id", async () => {
    const prefix = uniquePrefix("script");
    const publisher = createRedisPublisher(redisOptions(url, { prefix, mode: "streams", pipelineSize: 50, scriptSize: 7 }), {
      logger: silentLogger,
    });
    const a = decisions(60);
    const b = interactions(60);
    const all = a.flatMap((e, i) => (i % 3 === 0 ? [e, b[i] as DomainEvent] : [e])).concat(b.filter((_, i) => i % 3 !== 0));
    try {
      const results = await publisher.publishBatch(all);
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
      for (const [topic, sent] of [
        ["decision.made.v1", a],
        ["interaction.recorded.v1", b],
      ] as const) {
        const stored = (await raw.xrange(redisKeyOf({ prefix }, topic), "-", "+")) as Array<[string, string[]]>;
        const expectedIds = all.filter((e) => e.type === topic).map((e) => e.id);
        expect(stored.map(([, fields]) => JSON.parse(fields[1] as string).id)).toEqual(expectedIds);
        expect(expectedIds).toHaveLength(sent.length);
        // Each publish's position is the id XADD gave its entry.
        const positions = all
          .map((e, i) => [e, results[i]] as const)
          .filter(([e]) => e.type === topic)
          .map(([, r]) => (r?.status === "fulfilled" ? r.value.position : undefined));
        expect(positions).toEqual(stored.map(([id]) => id));
      }
    } finally {
      await publisher.close();
      await raw.del(redisKeyOf({ prefix }, "decision.made.v1"), redisKeyOf({ prefix }, "interaction.recorded.v1"));
    }
  });

  it("streams: a key of the wrong type fails only its own messages (WRONGTYPE), the others are stored", async () => {
    const prefix = uniquePrefix("wrongtype");
    await raw.set(redisKeyOf({ prefix }, "interaction.recorded.v1"), "not a stream");
    const publisher = createRedisPublisher(redisOptions(url, { prefix, mode: "streams" }), { logger: silentLogger });
    const batch = [...decisions(2), ...interactions(2), ...decisions(2)];
    try {
      const results = await publisher.publishBatch(batch);
      expect(results.map((r) => (r.status === "fulfilled" ? "ok" : (r.reason as { code: string }).code))).toEqual([
        "ok",
        "ok",
        "PUBLISH_FAILED",
        "PUBLISH_FAILED",
        "ok",
        "ok",
      ]);
      expect(String((results[2] as PromiseRejectedResult).reason.message)).toContain("WRONGTYPE");
      expect(await raw.xlen(redisKeyOf({ prefix }, "decision.made.v1"))).toBe(4);
    } finally {
      await publisher.close();
      await raw.del(redisKeyOf({ prefix }, "decision.made.v1"), redisKeyOf({ prefix }, "interaction.recorded.v1"));
    }
  });

  it("pub/sub: the script cache flushed mid-run (as after a restart) is reloaded; receivers are counted per message", async () => {
    const port = await freePort();
    const own = new OwnRedisServer("send-modes-pw");
    await own.start(port);
    const serverUrl = `redis://:send-modes-pw@127.0.0.1:${port}`;
    const admin = new Redis(serverUrl);
    const prefix = uniquePrefix("noscript");
    const options = redisOptions(serverUrl, { prefix });
    const publisher = createRedisPublisher(options, { logger: silentLogger });
    const subscriber = createRedisSubscriber(options, { logger: silentLogger });
    const got: string[] = [];
    try {
      await subscriber.subscribe(["decision.made.v1"], (event) => {
        got.push(event.id);
      });
      const first = await publisher.publishBatch(decisions(5));
      expect(first.map((r) => r.status === "fulfilled" && r.value.receivers)).toEqual([1, 1, 1, 1, 1]);
      await admin.script("FLUSH");
      const batch = decisions(30);
      const second = await publisher.publishBatch(batch);
      expect(second.map((r) => r.status === "fulfilled" && r.value.receivers)).toEqual(Array(30).fill(1));
      for (let i = 0; i < 100 && got.length < 35; i++) await new Promise((r) => setTimeout(r, 50));
      expect(got.slice(5)).toEqual(batch.map((e) => e.id));
    } finally {
      await publisher.close();
      await subscriber.close();
      admin.disconnect();
      await own.kill();
    }
  });
});

// A full batch is written in the call that fills it — a loop of publishes gets its first batches onto
// the connection while it is still publishing — but never ahead of a batch that had to wait (for the
// connection, or for the script's load or reload): order per connection holds.
describe("redis: when a full batch is written", () => {
  for (const sendMode of ["script", "pipeline"] as const) {
    it(`${sendMode}: the first full batches are on the connection before the caller's synchronous publishing ends`, async () => {
      const prefix = uniquePrefix(`at-once-${sendMode}`);
      const options = redisOptions(url, { prefix, sendMode, pipelineSize: 20 });
      const publisher = createRedisPublisher(options, { logger: silentLogger });
      const listener = new Redis(url);
      const got: string[] = [];
      try {
        listener.on("message", (_channel: string, message: string) => got.push(JSON.parse(message).id));
        await listener.subscribe(redisKeyOf({ prefix }, "decision.made.v1"));
        await publisher.publish("decision.made.v1", sampleDecision()); // connected, and the script loaded
        const sent = decisions(50);
        const publishing = sent.map((e) => publisher.publishEvent(e));
        // Still inside the loop's turn: two full batches (two in flight) are written, the last ten queued.
        // ioredis's commandQueue holds the commands written to the connection and not yet answered.
        const commands = (publisher.client as unknown as { commandQueue: { length: number } }).commandQueue.length;
        expect(commands).toBe(sendMode === "script" ? 2 : 40);
        await Promise.all(publishing);
        for (let i = 0; i < 100 && got.length < 51; i++) await new Promise((r) => setTimeout(r, 20));
        expect(got.slice(1)).toEqual(sent.map((e) => e.id));
      } finally {
        await publisher.close();
        listener.disconnect();
      }
    });
  }

  // A restarted server has no script: the first batch after the reconnect loads it before sending
  // anything, so no call is refused (NOSCRIPT) and sent again. Redis's commandstats count the refusals.
  it("script: after Redis restarts, the script is loaded before the first call — no NOSCRIPT, no call sent again", async () => {
    const port = await freePort();
    const own = new OwnRedisServer("send-modes-restart-pw");
    await own.start(port);
    const serverUrl = `redis://:send-modes-restart-pw@127.0.0.1:${port}`;
    const prefix = uniquePrefix("restart-load");
    const publisher = createRedisPublisher(redisOptions(serverUrl, { prefix, mode: "streams", pipelineSize: 10 }), {
      logger: silentLogger,
    });
    let admin: Redis | undefined;
    try {
      await publisher.publishBatch(decisions(5));
      await own.kill();
      await own.start(port);
      // Until the reconnect, publishes fail (not sent); once it is ready, they go through.
      let results = await publisher.publishBatch(decisions(1));
      for (let i = 0; i < 100 && results[0]?.status !== "fulfilled"; i++) {
        await new Promise((r) => setTimeout(r, 50));
        results = await publisher.publishBatch(decisions(1));
      }
      expect(results[0]?.status).toBe("fulfilled");
      const batch = decisions(40);
      const published = await Promise.all(batch.map((e) => publisher.publishEvent(e)));
      expect(published).toHaveLength(40);
      admin = new Redis(serverUrl);
      const stats = String(await admin.info("commandstats"));
      const evalsha = /cmdstat_evalsha:([^\r\n]*)/.exec(stats)?.[1] ?? "";
      expect(evalsha).toMatch(/calls=\d+/);
      expect(evalsha).toMatch(/rejected_calls=0,failed_calls=0/);
      const stored = (await admin.xrange(redisKeyOf({ prefix }, "decision.made.v1"), "-", "+")) as Array<[string, string[]]>;
      expect(stored.slice(-40).map(([, f]) => JSON.parse(f[1] as string).id)).toEqual(batch.map((e) => e.id));
      expect(new Set(stored.map(([, f]) => JSON.parse(f[1] as string).id)).size).toBe(stored.length);
    } finally {
      await publisher.close();
      admin?.disconnect();
      await own.kill();
    }
  });

  // One batch in flight meets NOSCRIPT and reloads the script; a batch formed during the reload must
  // wait for it too, not be written at once (the script looked loaded until the NOSCRIPT): Redis
  // would run it right after the reload, ahead of the first batch sent again. Answers are slowed by
  // a Toxiproxy latency so the second batch is formed inside the reload, 150 ms from either edge.
  it("script: a batch formed while the script is reloaded goes out after the batch that reloads it", async () => {
    const port = await freePort();
    const own = new OwnRedisServer("send-modes-order-pw");
    await own.start(port);
    const toxiproxy = await Toxiproxy.fromEnv();
    const proxy = await toxiproxy.createProxy(`redis-reload-order-${Date.now()}`, `127.0.0.1:${port}`);
    const admin = new Redis(`redis://:send-modes-order-pw@127.0.0.1:${port}`);
    const listener = new Redis(`redis://:send-modes-order-pw@127.0.0.1:${port}`);
    const prefix = uniquePrefix("reload-order");
    const publisher = createRedisPublisher(redisOptions(`redis://:send-modes-order-pw@${proxy.listen}`, { prefix, pipelineSize: 10 }), {
      logger: silentLogger,
    });
    const got: string[] = [];
    try {
      listener.on("message", (_channel: string, message: string) => got.push(JSON.parse(message).id));
      await listener.subscribe(redisKeyOf({ prefix }, "decision.made.v1"));
      await publisher.publish("decision.made.v1", sampleDecision()); // connected, and the script loaded
      await admin.script("FLUSH");
      await proxy.addToxic("slow-answers", { type: "latency", stream: "downstream", attributes: { latency: 300 } });
      const first = decisions(10); // one full batch: written at once, NOSCRIPT at ~300 ms, reloaded at ~600 ms
      const publishing = first.map((e) => publisher.publishEvent(e));
      await new Promise((r) => setTimeout(r, 450));
      const second = decisions(10);
      publishing.push(...second.map((e) => publisher.publishEvent(e)));
      await Promise.all(publishing);
      for (let i = 0; i < 100 && got.length < 21; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got.slice(1)).toEqual([...first, ...second].map((e) => e.id));
    } finally {
      await publisher.close();
      admin.disconnect();
      listener.disconnect();
      await proxy.delete();
      await own.kill();
    }
  });
});

describe("redis REDIS_SEND_MODE=script: what one call returns", () => {
  // A call answers with one receiver count when every message had the same one, and with one per
  // message otherwise: here one call carries both channels, one subscribed twice and one not at all.
  it("pub/sub: channels with different receiver counts in one call keep each message's count", async () => {
    const prefix = uniquePrefix("receivers");
    const options = redisOptions(url, { prefix, scriptSize: 100 });
    const publisher = createRedisPublisher(options, { logger: silentLogger });
    const listeners = [new Redis(url), new Redis(url)];
    try {
      for (const l of listeners) await l.subscribe(redisKeyOf({ prefix }, "decision.made.v1"));
      const batch = decisions(6).flatMap((d, i) => [d, interactions(1)[0] as DomainEvent].slice(0, i % 2 ? 2 : 1));
      const results = await publisher.publishBatch(batch);
      expect(results.map((r) => (r.status === "fulfilled" ? r.value.receivers : r.reason))).toEqual(
        batch.map((e) => (e.type === "decision.made.v1" ? 2 : 0)),
      );
      // One channel only, all subscribed: the short answer, the same count for each.
      const uniform = await publisher.publishBatch(decisions(5));
      expect(uniform.map((r) => r.status === "fulfilled" && r.value.receivers)).toEqual([2, 2, 2, 2, 2]);
    } finally {
      await publisher.close();
      for (const l of listeners) l.disconnect();
    }
  });

  it("the scripts answer briefly: one count for a uniform pub/sub call, one string of ids for an all-stored Streams call", async () => {
    const prefix = uniquePrefix("short");
    const channel = redisKeyOf({ prefix }, "decision.made.v1");
    const stream = redisKeyOf({ prefix }, "interaction.recorded.v1");
    const messages = (key: string) => ["a", "b", "c"].map((json) => ({ key, json }));
    try {
      expect(await raw.eval(PUBLISH_SCRIPT.lua, ...scriptArgs(false, messages(channel), 0))).toBe(0);
      const ids = await raw.eval(XADD_SCRIPT.lua, ...scriptArgs(true, messages(stream), 100));
      expect(typeof ids).toBe("string");
      expect(String(ids).split(" ")).toEqual((await raw.xrange(stream, "-", "+")).map(([id]) => id));
    } finally {
      await raw.del(stream);
    }
  });

  it("streams: a call whose messages all stored gives each its own entry id, in order", async () => {
    const prefix = uniquePrefix("ids");
    const publisher = createRedisPublisher(redisOptions(url, { prefix, mode: "streams", scriptSize: 100 }), { logger: silentLogger });
    try {
      const results = await publisher.publishBatch(decisions(40));
      const stored = (await raw.xrange(redisKeyOf({ prefix }, "decision.made.v1"), "-", "+")) as Array<[string, string[]]>;
      expect(results.map((r) => r.status === "fulfilled" && r.value.position)).toEqual(stored.map(([id]) => id));
      expect(new Set(stored.map(([id]) => id)).size).toBe(40);
    } finally {
      await publisher.close();
      await raw.del(redisKeyOf({ prefix }, "decision.made.v1"));
    }
  });
});

describe("redis: a server that refuses scripting", () => {
  const own = new OwnRedisServer("no-scripts-pw", [
    "--rename-command",
    "EVALSHA",
    "",
    "--rename-command",
    "EVAL",
    "",
    "--rename-command",
    "SCRIPT",
    "",
  ]);
  let serverUrl = "";
  beforeAll(async () => {
    const port = await freePort();
    await own.start(port);
    serverUrl = `redis://:no-scripts-pw@127.0.0.1:${port}`;
  });
  afterAll(() => own.kill());

  for (const mode of ["streams", "pubsub"] as const) {
    it(`${mode}: falls back to pipelines once, with one log line, and every result is right`, async () => {
      const admin = new Redis(serverUrl);
      const prefix = uniquePrefix(`fallback-${mode}`);
      const key = redisKeyOf({ prefix }, "decision.made.v1");
      const { logger, lines } = recorder();
      const options = redisOptions(serverUrl, { prefix, mode, pipelineSize: 10 });
      const publisher = createRedisPublisher(options, { logger });
      const subscriber = createRedisSubscriber(options, { logger: silentLogger });
      const got: string[] = [];
      try {
        expect(await admin.call("EVALSHA", "0".repeat(40), "0").catch((e: Error) => e.message)).toMatch(/unknown command/i);
        if (mode === "pubsub") {
          await subscriber.subscribe(["decision.made.v1"], (event) => {
            got.push(event.id);
          });
        }
        const events = decisions(45);
        // Concurrent publishes and a batch: several pipelines in flight meet the refusal together.
        const [batch, ...singles] = await Promise.all([
          publisher.publishBatch(events.slice(0, 40)),
          ...events.slice(40).map((e) => publisher.publishEvent(e)),
        ]);
        expect((batch as PromiseSettledResult<unknown>[]).filter((r) => r.status === "rejected")).toEqual([]);
        const again = await publisher.publishBatch(decisions(3));
        expect(again.filter((r) => r.status === "rejected")).toEqual([]);
        const refusals = lines.filter((l) => l.includes("refuses scripting"));
        expect(refusals).toHaveLength(1);
        expect(refusals[0]).toContain("REDIS_SEND_MODE=pipeline");
        expect(refusals[0]).not.toContain("no-scripts-pw");
        if (mode === "streams") {
          const stored = (await admin.xrange(key, "-", "+")) as Array<[string, string[]]>;
          expect(stored).toHaveLength(48);
          expect(stored.slice(0, 40).map(([, f]) => JSON.parse(f[1] as string).id)).toEqual(events.slice(0, 40).map((e) => e.id));
          const positions = (batch as PromiseSettledResult<{ position?: string }>[]).map(
            (r) => r.status === "fulfilled" && r.value.position,
          );
          expect(positions).toEqual(stored.slice(0, 40).map(([id]) => id));
          expect(singles.map((r) => (r as { position?: string }).position)).toEqual(
            expect.arrayContaining(stored.slice(40, 45).map(([id]) => id)),
          );
        } else {
          const receivers = (batch as PromiseSettledResult<{ receivers?: number }>[]).map(
            (r) => r.status === "fulfilled" && r.value.receivers,
          );
          expect(receivers).toEqual(Array(40).fill(1));
          for (let i = 0; i < 100 && got.length < 48; i++) await new Promise((r) => setTimeout(r, 50));
          expect(got.slice(0, 40)).toEqual(events.slice(0, 40).map((e) => e.id));
          expect(got).toHaveLength(48);
        }
      } finally {
        await publisher.close();
        await subscriber.close();
        await admin.del(key);
        admin.disconnect();
      }
    });
  }

  it("REDIS_SEND_MODE=pipeline never tries a script (no log line)", async () => {
    const { logger, lines } = recorder();
    const publisher = createRedisPublisher(redisOptions(serverUrl, { prefix: uniquePrefix("pipeline"), sendMode: "pipeline" }), { logger });
    try {
      const results = await publisher.publishBatch(decisions(5));
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
      expect(lines.filter((l) => l.includes("scripting"))).toEqual([]);
    } finally {
      await publisher.close();
    }
  });
});
