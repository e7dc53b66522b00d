// A password in a URL's query string (`?password=`, which pg and ioredis both accept) never reaches
// what the demo prints or serves: start-up lines, /health, errors, the relay thread's and the relay
// process's logs. Real services: the PostgreSQL of DATABASE_URL (trust auth: the query password is
// accepted and ignored) and a Redis URL on a closed port, so that errors are produced and logged.

import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { requireService } from "@kaireon/events-testkit";
import { expect, it } from "vitest";
import { postJson, spawnDemo } from "./e2e-support.js";

const dbSecret = `pg-secret-${randomBytes(6).toString("hex")}`;
const redisSecret = `redis-secret-${randomBytes(6).toString("hex")}`;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function withQueryPassword(url: string, secret: string): string {
  const u = new URL(url);
  u.password = "";
  u.searchParams.set("password", secret);
  return u.toString();
}

const expectNoSecret = (text: string) => {
  expect(text).not.toContain(dbSecret);
  expect(text).not.toContain(redisSecret);
};

it("?password= in DATABASE_URL and REDIS_URL: not in the start-up line, /health, errors or the relay's logs", async () => {
  const databaseUrl = withQueryPassword(await requireService({ variable: "DATABASE_URL", name: "PostgreSQL server" }), dbSecret);
  const redisUrl = `redis://127.0.0.1:${await closedPort()}/?password=${redisSecret}`;
  const env = {
    EVENT_PUBLISHER: "redis",
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    REDIS_CONNECT_TIMEOUT_MS: "200",
    REDIS_PUBLISH_TIMEOUT_MS: "300",
    OUTBOX_POLL_INTERVAL_MS: "100",
    OUTBOX_RETRY_BASE_MS: "50",
    OUTBOX_RETRY_MAX_MS: "200",
  };
  const server = await spawnDemo(env);
  // relay-main beside it (DEMO_RELAY=separate's process): its own start-up line and errors.
  const relay = await spawnDemo({ ...env, DEMO_RELAY: "separate" }, { script: "relay-main.js", ready: /relay: postgres()/ });
  try {
    expect(server.output()).toMatch(/store postgres postgres:\/\/kaireon@127\.0\.0\.1:\d+\/kaireon\?password=\*\*\*/);
    const res = await postJson(`${server.url}/api/v1/respond`, {
      tenantId: "acme",
      customerId: `secret-${randomBytes(4).toString("hex")}`,
      offerId: "o1",
      channelId: "web",
      interactionType: "click",
    });
    expect(res.status).toBe(201);
    // The relays fail to publish (Redis is not there) and say so: wait for a retry on the thread.
    let health = "";
    await expect
      .poll(
        async () => {
          health = await (await fetch(`${server.url}/health`)).text();
          return (JSON.parse(health) as { relay: { retried?: number } }).relay.retried ?? 0;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBeGreaterThan(0);
    expect(JSON.parse(health)).toMatchObject({ backend: "redis", publisher: { ready: false } });
    expectNoSecret(health);
    const notFound = await (await fetch(`${server.url}/api/v1/nope?password=${redisSecret}`)).text();
    expect(notFound).not.toContain(redisSecret);
  } finally {
    await relay.stop();
    await server.stop();
  }
  const logs = `${server.output()}\n${relay.output()}`;
  expect(logs).toMatch(/redis|Redis/); // errors were logged…
  expectNoSecret(logs); // …without the secrets
});
