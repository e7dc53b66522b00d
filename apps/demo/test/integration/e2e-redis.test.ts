// End to end on Redis (pub/sub): the real redis-server started by tooling/services/redis.sh.
import { requireService } from "@kaireon/events-testkit";
import { expect, it } from "vitest";
import { payloadOf, postJson, readInteraction, runBackendScenario, spawnDemo, subscribeBackend } from "./e2e-support.js";

it("respond → the event arrives at a Redis subscriber, equal to the stored row", async () => {
  const REDIS_URL = await requireService({ variable: "REDIS_URL", name: "Redis" });
  await runBackendScenario({ EVENT_PUBLISHER: "redis", REDIS_URL }, "redis");
});

it("DEMO_RELAY=separate: the server only enqueues, the relay process publishes", async () => {
  const REDIS_URL = await requireService({ variable: "REDIS_URL", name: "Redis" });
  const env = { EVENT_PUBLISHER: "redis", REDIS_URL, DEMO_RELAY: "separate", OUTBOX_POLL_INTERVAL_MS: "100" };
  const consumer = await subscribeBackend(env);
  const server = await spawnDemo(env);
  const relay = await spawnDemo(env, { script: "relay-main.js", dataDir: server.dataDir, ready: /relay: sqlite()/ });
  try {
    const res = await postJson(`${server.url}/api/v1/respond`, {
      tenantId: "acme",
      customerId: "sep-1",
      offerId: "o1",
      channelId: "web",
      interactionType: "click",
    });
    expect(res.status).toBe(201);
    const { interaction } = res.json;
    await expect.poll(() => consumer.events.map((e) => e.id), { timeout: 30_000, interval: 100 }).toContain(interaction.eventId);
    expect(consumer.events.find((e) => e.id === interaction.eventId)?.data).toEqual(
      payloadOf(readInteraction(server.dataDir, interaction.interactionId)!),
    );
    expect(((await (await fetch(`${server.url}/health`)).json()) as { relay: string }).relay).toBe("separate process");
    expect(await relay.stop()).toBe(0);
    expect(relay.output()).toContain('"sent":1');
  } finally {
    await relay.stop();
    await server.stop();
    await consumer.close();
  }
});

it("the relay thread's cursor (committed by the server) survives a restart: nothing is sent twice", async () => {
  const REDIS_URL = await requireService({ variable: "REDIS_URL", name: "Redis" });
  const env = { EVENT_PUBLISHER: "redis", REDIS_URL, DEMO_LIVE_VIEW: "false", DEMO_TAIL: "false" };
  const consumer = await subscribeBackend(env);
  const first = await spawnDemo(env, { keepData: true });
  const health = async (url: string) => (await (await fetch(`${url}/health`)).json()) as { relay: { sent: number; backlog: number } };
  let second: Awaited<ReturnType<typeof spawnDemo>> | undefined;
  try {
    for (let i = 0; i < 20; i++) {
      const res = await postJson(`${first.url}/api/v1/respond`, {
        tenantId: "acme",
        customerId: `restart-${i}`,
        offerId: "o1",
        channelId: "web",
        interactionType: "impression",
      });
      expect(res.status).toBe(201);
    }
    await expect
      .poll(async () => (await health(first.url)).relay, { timeout: 30_000, interval: 100 })
      .toMatchObject({ sent: 20, backlog: 0 });
    expect(await first.stop()).toBe(0);
    // The same store: every row is behind the cursor the first server committed, so none goes out again.
    second = await spawnDemo(env, { dataDir: first.dataDir });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await health(second.url)).relay).toMatchObject({ sent: 0, backlog: 0 });
    expect(consumer.events.filter((e) => e.subject?.startsWith("restart-") || JSON.stringify(e.data).includes("restart-")).length).toBe(20);
  } finally {
    await second?.stop();
    await first.stop();
    await consumer.close();
  }
});
