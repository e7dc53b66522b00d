// A password in REDIS_URL's query string (`redis://host:port?password=…`, which ioredis accepts and
// uses for AUTH) never reaches a log line, an error message, an error's cause chain (util.inspect,
// JSON) or ready().detail. Against a redis-server this test starts itself with --requirepass on a free
// port (stopped by PID), with the wrong password, the right one (then the server is killed under a
// running publisher and subscriber), and an address where nothing listens.
import { inspect } from "node:util";
import { createEvent, type DomainEvent, type Logger, type SubscriptionError } from "@kaireon/events-core";
import { sampleDecision } from "@kaireon/events-testkit";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisPublisher, createRedisSubscriber, type RedisMode, redisOptions } from "../../src/index.js";
import { freePort, OwnRedisServer, SEND_MODES, uniquePrefix } from "./redis-service.js";

const RIGHT = "Qs3cret-right-in-query";
const WRONG = "Qs3cret-wrong-in-query";
const SECRETS = [RIGHT, WRONG];

const own = new OwnRedisServer(RIGHT);
const startServer = (port: number) => own.start(port);
const killServer = () => own.kill();

afterAll(killServer);

/** Everything an error can show: message, util.inspect (every own property, nested), JSON of the cause chain. */
function exposed(error: unknown): string {
  const chain: unknown[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    chain.push(
      typeof e === "object" ? Object.fromEntries(Object.getOwnPropertyNames(e).map((k) => [k, (e as Record<string, unknown>)[k]])) : e,
    );
    e = (e as { cause?: unknown }).cause;
  }
  let json: string;
  try {
    json = JSON.stringify(chain, (_k, v) => (typeof v === "bigint" ? String(v) : v));
  } catch {
    json = "";
  }
  return `${(error as Error)?.message}\n${inspect(error, { depth: 20, showHidden: true })}\n${json}`;
}

function collector() {
  const seen: string[] = [];
  const log = (message: string, fields?: Record<string, unknown>) => seen.push(`${message} ${inspect(fields ?? {}, { depth: 10 })}`);
  const logger: Logger = { debug: log, info: log, warn: log, error: log };
  return {
    logger,
    seen,
    error(e: unknown) {
      seen.push(exposed(e));
      return e;
    },
    onError: (f: SubscriptionError) => {
      seen.push(exposed(f.error));
      if (f.raw) seen.push(String(f.raw));
    },
    assertClean() {
      const text = seen.join("\n");
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    },
  };
}

const events = (n: number) => Array.from({ length: n }, () => createEvent("decision.made.v1", sampleDecision()) as DomainEvent);

async function exercise(url: string, mode: RedisMode, sendMode: (typeof SEND_MODES)[number], c: ReturnType<typeof collector>) {
  const options = redisOptions(url, { mode, sendMode, publishTimeoutMs: 500, connectTimeoutMs: 500, prefix: uniquePrefix("secret") });
  const publisher = createRedisPublisher(options, { logger: c.logger });
  const subscriber = createRedisSubscriber(options, { logger: c.logger });
  try {
    await publisher.publish("decision.made.v1", sampleDecision()).catch(c.error);
    for (const r of await publisher.publishBatch(events(3)).catch((e: unknown) => [{ status: "rejected", reason: c.error(e) }])) {
      if (r.status === "rejected") c.error(r.reason);
    }
    c.seen.push(JSON.stringify(await publisher.ready()));
    c.seen.push(JSON.stringify(publisher.metrics()));
    const sub = await Promise.race([
      subscriber.subscribe(["decision.made.v1"], () => {}, { onError: c.onError }).catch(c.error),
      new Promise((r) => setTimeout(r, 1_500)),
    ]);
    c.seen.push(inspect(sub, { depth: 3 }));
  } finally {
    await publisher.close();
    await Promise.race([subscriber.close(), new Promise((r) => setTimeout(r, 3_000))]);
  }
}

describe("redis: a password in the URL's query string is never shown", () => {
  for (const sendMode of SEND_MODES)
    for (const mode of ["pubsub", "streams"] as const) {
      it(`${mode}, ${sendMode}: the wrong password (AUTH_FAILED)`, async () => {
        const port = await freePort();
        await startServer(port);
        const c = collector();
        try {
          // A bound generous enough that the refusal arrives first on a loaded machine (with 500 ms the
          // publish could time out before AUTH was even answered).
          const options = redisOptions(`redis://127.0.0.1:${port}?password=${WRONG}`, { mode, sendMode, publishTimeoutMs: 10_000 });
          const publisher = createRedisPublisher(options, { logger: c.logger });
          const error = await publisher.publish("decision.made.v1", sampleDecision()).catch(c.error);
          expect(error).toMatchObject({ code: "AUTH_FAILED" });
          await publisher.close();
          await exercise(`redis://127.0.0.1:${port}?password=${WRONG}`, mode, sendMode, c);
          c.assertClean();
        } finally {
          await killServer();
        }
      }, 30_000);

      it(`${mode}, ${sendMode}: the right password, then the server dies under a publisher and a subscriber`, async () => {
        const port = await freePort();
        await startServer(port);
        const c = collector();
        const url = `redis://127.0.0.1:${port}?password=${RIGHT}`;
        const options = redisOptions(url, { mode, sendMode, publishTimeoutMs: 500, prefix: uniquePrefix("secret") });
        const publisher = createRedisPublisher(options, { logger: c.logger });
        const subscriber = createRedisSubscriber(options, { logger: c.logger });
        try {
          // The query password is the one used for AUTH: this works.
          const ok = await publisher.publish("decision.made.v1", sampleDecision());
          expect(ok.status).toBe("published");
          await subscriber.subscribe(["decision.made.v1"], () => {}, { onError: c.onError });
          c.seen.push(JSON.stringify(await publisher.ready()));
          await killServer();
          for (let i = 0; i < 5; i++) {
            await publisher.publish("decision.made.v1", sampleDecision()).catch(c.error);
            for (const r of await publisher.publishBatch(events(2))) if (r.status === "rejected") c.error(r.reason);
          }
          c.seen.push(JSON.stringify(await publisher.ready()));
          await new Promise((r) => setTimeout(r, 300)); // the subscriber's reconnect attempts log
          c.assertClean();
        } finally {
          await publisher.close();
          await subscriber.close();
          await killServer();
        }
      }, 30_000);

      it(`${mode}, ${sendMode}: nothing listens at the address`, async () => {
        const c = collector();
        await exercise(`redis://127.0.0.1:${await freePort()}?password=${RIGHT}`, mode, sendMode, c);
        expect(c.seen.length).toBeGreaterThan(3);
        c.assertClean();
      }, 30_000);
    }
});
