// Broker down during load, with a real Redis: this test runs its own redis-server (REDIS_SERVER_BIN,
// exported by tooling/services/redis.sh) so it can kill it. While Redis is gone every request still
// succeeds (rows + outbox commit locally); after Redis returns on the same port the relay delivers
// every event. Redis Streams mode, so a consumer that connects afterwards can count them all by id.

import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { loadSubscriber, silentLogger, topicNames } from "@kaireon/events-core";
import { requireService } from "@kaireon/events-testkit";
import { afterAll, expect, it } from "vitest";
import { postJson, type RunningDemo, spawnDemo } from "./e2e-support.js";

let redis: ChildProcess | undefined;
let demo: RunningDemo | undefined;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function startRedis(bin: string, port: number): Promise<ChildProcess> {
  const child = spawn(bin, ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}`).then(
      () => true,
      (e: { cause?: { code?: string } }) => e.cause?.code !== "ECONNREFUSED",
    );
    if (up) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not start on ${port}`);
}

async function stopRedis(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

afterAll(async () => {
  await demo?.stop();
  await stopRedis(redis);
});

it("every request succeeds while Redis is down, and every event is delivered after it returns", async () => {
  const bin = await requireService({ variable: "REDIS_SERVER_BIN", name: "redis-server binary" });
  const port = await freePort();
  const env = {
    EVENT_PUBLISHER: "redis",
    REDIS_URL: `redis://127.0.0.1:${port}`,
    REDIS_MODE: "streams",
    REDIS_CHANNEL_PREFIX: "outage:",
    REDIS_PUBLISH_TIMEOUT_MS: "1000",
    OUTBOX_RETRY_BASE_MS: "100",
    OUTBOX_RETRY_MAX_MS: "1000",
    OUTBOX_MAX_ATTEMPTS: "1000",
    DEMO_LIVE_VIEW: "false",
  };
  redis = await startRedis(bin, port);
  demo = await spawnDemo(env);

  await stopRedis(redis);
  const ids = new Set<string>();
  for (let batch = 0; batch < 10; batch++) {
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        postJson(`${demo!.url}/api/v1/respond`, {
          tenantId: `t${i % 4}`,
          customerId: `c${batch}-${i}`,
          offerId: "o1",
          channelId: "web",
          interactionType: "click",
        }),
      ),
    );
    for (const r of responses) {
      expect(r.status).toBe(201);
      ids.add(r.json.interaction.eventId);
    }
  }
  expect(ids.size).toBe(200);

  redis = await startRedis(bin, port);
  // The relay drains the backlog once Redis answers again.
  await expect
    .poll(async () => ((await (await fetch(`${demo!.url}/health`)).json()) as { relay: { backlog: number } }).relay.backlog, {
      timeout: 60_000,
      interval: 250,
    })
    .toBe(0);

  const received = new Set<string>();
  const subscriber = await loadSubscriber(env, { logger: silentLogger });
  const subscription = await subscriber.subscribe(
    topicNames,
    (event) => {
      received.add(event.id);
    },
    { from: "earliest" },
  );
  try {
    await expect.poll(() => [...ids].filter((id) => received.has(id)).length, { timeout: 30_000, interval: 200 }).toBe(200);
  } finally {
    await subscription.close();
    await subscriber.close();
  }
});
