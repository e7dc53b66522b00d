// Redis dies mid-run. This test starts its own redis-server (REDIS_SERVER_BIN, exported by
// tooling/services/redis.sh, or redis-server on PATH) on a free port with a password, kills it with
// SIGKILL while publishes are in flight, and checks the documented bounds: every publish settles
// with a coded error, what waits stays under REDIS_MAX_PENDING plus the pipelines in flight, ioredis
// queues nothing offline, and the password appears in no error or log line. How long the slowest
// publish took is printed, not asserted (a wall clock on a shared machine proves nothing); that each
// one settles by its deadline is proven with a fake clock in core's Batcher unit tests. Then it
// restarts Redis on the same port: the same publisher and subscriber carry on.
import { EventsError, type Logger } from "@kaireon/events-core";
import { createEventSpy, sampleDecision, silentLogger, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, describe, expect, it } from "vitest";
import { createRedisPublisher, createRedisSubscriber, redisOptions } from "../../src/index.js";
import { freePort, OwnRedisServer, SEND_MODES } from "./redis-service.js";

const PASSWORD = "fault-test-Pa55word";
const TIMEOUT_MS = 1_000;
const MAX_PENDING = 2_000;
const PIPELINE = 200;

const own = new OwnRedisServer(PASSWORD);
const startServer = (port: number) => own.start(port);
const killServer = () => own.kill();

afterAll(killServer);

for (const sendMode of SEND_MODES) {
  describe(`redis fault: the server is killed mid-run and comes back (${sendMode})`, () => {
    it("streams: a subscriber carries on after Redis restarts empty (the group is recreated from the start)", async () => {
      const port = await freePort();
      await startServer(port);
      const options = redisOptions(`redis://default:${PASSWORD}@127.0.0.1:${port}`, {
        sendMode,
        mode: "streams",
        publishTimeoutMs: TIMEOUT_MS,
      });
      const publisher = createRedisPublisher(options, { logger: silentLogger });
      const subscriber = createRedisSubscriber(options, { logger: silentLogger });
      const spy = createEventSpy();
      const tenantId = uniqueTenant("restart");
      await subscriber.subscribe(["decision.made.v1"], spy.handler, { group: "restart-group", onError: spy.onError });
      try {
        const before = await publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "before" }));
        await spy.waitFor("decision.made.v1", (e) => e.id === before.id);
        await killServer();
        await startServer(port); // no persistence: stream and group are gone
        const after: string[] = [];
        for (let i = 0; i < 100 && after.length < 20; i++) {
          const r = await publisher
            .publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "after" }))
            .catch(() => undefined);
          if (r) after.push(r.id);
          else await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(after).toHaveLength(20);
        // Every event stored after the restart arrives, also those added before the group was recreated.
        const got = await spy.waitForCount(20, (e) => (e.data as { recommendationId: string }).recommendationId === "after", 20_000);
        expect(got.map((e) => e.id)).toEqual(after);
      } finally {
        await publisher.close();
        await subscriber.close();
        await killServer();
      }
    }, 60_000);

    it("a wrong password is AUTH_FAILED, and neither password is printed", async () => {
      const port = await freePort();
      await startServer(port);
      const lines: string[] = [];
      const log = (message: string) => lines.push(message);
      const wrong = "not-the-Pa55word";
      const publisher = createRedisPublisher(
        // The publish bound is far beyond the test's own timeout: refused credentials must be reported
        // as soon as Redis refuses them, not when the bound runs out (where it raced the batch timer and
        // came out PUBLISH_TIMEOUT under load).
        redisOptions(`redis://default:${wrong}@127.0.0.1:${port}`, { sendMode, publishTimeoutMs: 120_000 }),
        {
          logger: { debug: log, info: log, warn: log, error: log },
        },
      );
      try {
        const error = (await publisher.publish("decision.made.v1", sampleDecision()).catch((e: unknown) => e)) as EventsError;
        expect(error.code).toBe("AUTH_FAILED");
        expect(error.message).toContain("REDIS_URL");
        const ready = await publisher.ready();
        expect(ready.ready).toBe(false);
        const text = [error.message, ready.detail, ...lines].join("\n");
        expect(text).not.toContain(wrong);
        expect(text).not.toContain(PASSWORD);
      } finally {
        await publisher.close();
        await killServer();
      }
    }, 20_000);

    it("settles every publish within the bound, stays bounded, and resumes on the same publisher", async () => {
      const port = await freePort();
      await startServer(port);
      const lines: string[] = [];
      const log = (message: string, fields?: Record<string, unknown>) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
      const logger: Logger = { debug: log, info: log, warn: log, error: log };
      const options = redisOptions(`redis://default:${PASSWORD}@127.0.0.1:${port}`, {
        sendMode,
        publishTimeoutMs: TIMEOUT_MS,
        maxPending: MAX_PENDING,
        pipelineSize: PIPELINE,
      });
      const publisher = createRedisPublisher(options, { logger });
      const subscriber = createRedisSubscriber(options, { logger });
      const spy = createEventSpy();
      const tenantId = uniqueTenant("fault");
      await subscriber.subscribe(["decision.made.v1"], spy.handler, { onError: spy.onError });

      try {
        // Healthy: a burst larger than the queue bound, awaited in waves, all published.
        for (let wave = 0; wave < 5; wave++) {
          const results = await Promise.all(
            Array.from({ length: 400 }, () =>
              publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "before" })),
            ),
          );
          expect(results.every((r) => r.status === "published" && r.receivers === 1)).toBe(true);
        }

        // Fire continuously, kill Redis mid-run, keep firing through the outage.
        const outcomes: Array<Promise<{ ms: number; code: string }>> = [];
        let maxPending = 0;
        let maxOfflineQueue = 0;
        const fire = (n: number) => {
          for (let i = 0; i < n; i++) {
            const started = Date.now();
            outcomes.push(
              publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "during" })).then(
                () => ({ ms: Date.now() - started, code: "ok" }),
                (error: unknown) => ({
                  ms: Date.now() - started,
                  code: EventsError.isInstance(error) ? error.code : `not coded: ${error}`,
                }),
              ),
            );
          }
          maxPending = Math.max(maxPending, publisher.metrics().pending);
          const internals = publisher.client as unknown as { offlineQueue: { length: number } };
          maxOfflineQueue = Math.max(maxOfflineQueue, internals.offlineQueue.length);
        };
        const waves = 60;
        for (let wave = 0; wave < waves; wave++) {
          if (wave === 10) await killServer();
          fire(300);
          await new Promise((r) => setTimeout(r, 50));
        }
        const settled = await Promise.all(outcomes);
        const slowest = Math.max(...settled.map((s) => s.ms));
        const codes = new Set(settled.map((s) => s.code));

        expect(settled).toHaveLength(waves * 300);
        expect([...codes].filter((c) => !["ok", "QUEUE_FULL", "PUBLISH_TIMEOUT", "CONNECTION_FAILED"].includes(c))).toEqual([]);
        expect(settled.filter((s) => s.code === "ok").length).toBeGreaterThan(0);
        expect(settled.filter((s) => s.code !== "ok").length).toBeGreaterThan(0);
        expect(maxPending).toBeLessThanOrEqual(MAX_PENDING + 2 * PIPELINE);
        expect(maxOfflineQueue).toBe(0);
        const m = publisher.metrics();
        expect(m.failed).toBe(settled.filter((s) => s.code !== "ok").length);
        console.log(
          `fault: ${settled.length} publishes, slowest settled in ${slowest} ms (bound ${TIMEOUT_MS} ms), max pending ${maxPending} (bound ${MAX_PENDING}+${2 * PIPELINE}), failures ${JSON.stringify(m.failures)}`,
        );

        // Redis returns on the same port: the same publisher reconnects by itself, and the
        // subscriber resubscribes.
        await startServer(port);
        let ready = false;
        for (let i = 0; i < 100 && !ready; i++) {
          ready = (await publisher.ready()).ready;
          if (!ready) await new Promise((r) => setTimeout(r, 100));
        }
        expect(ready).toBe(true);
        // The subscriber's resubscribe races the first publishes: publish until one arrives.
        let first: string | undefined;
        for (let i = 0; i < 100 && first === undefined; i++) {
          const r = await publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "probe" }));
          if (r.receivers === 1) first = r.id;
          else await new Promise((r) => setTimeout(r, 100));
        }
        expect(first).toBeDefined();
        const after = await Promise.all(
          Array.from({ length: 500 }, () => publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "after" }))),
        );
        expect(after.every((r) => r.status === "published" && r.receivers === 1)).toBe(true);
        await spy.waitForCount(500, (e) => (e.data as { recommendationId: string }).recommendationId === "after", 20_000);

        const text = `${lines.join("\n")}\n${JSON.stringify(m)}`;
        expect(text).not.toContain(PASSWORD);
        expect(lines.some((l) => l.includes("failed"))).toBe(true);
      } finally {
        await publisher.close();
        await subscriber.close();
        await killServer(); // the next send mode's run starts a server of its own
      }
    }, 120_000);
  });
}
