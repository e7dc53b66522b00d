// A disabled stream (EVENT_PUBLISHER=redis with REDIS_URL blank): the outbox relay refuses such a
// publisher (it would mark rows sent that went nowhere). The demo keeps serving, does not restart the
// relay in a loop, and /health says why nothing is sent, which variable to set, and how the backlog grows.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingLogger } from "@kaireon/events-testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type Container, startDemo } from "../../src/container.js";

let demo: Container | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await demo?.stop();
  demo = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const respond = (url: string, i: number) =>
  fetch(`${url}/api/v1/respond`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tenantId: "t1", customerId: `c${i}`, offerId: "o1", channelId: "web", interactionType: "click" }),
  });

type Health = { ready: boolean; relay: { running: boolean; reason?: string; message?: string; backlog?: number } | string };
const health = async (url: string) => (await (await fetch(`${url}/health`)).json()) as Health;

describe.each(["thread", "inline"])("DEMO_RELAY=%s, REDIS_URL blank", (mode) => {
  it("the server serves, the relay is not running because the stream is disabled, and the backlog grows", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "kaireon-demo-disabled-"));
    dirs.push(dataDir);
    const logger = recordingLogger();
    const lines = () => logger.messages("info", "warn", "error");
    const env = {
      PORT: "0",
      DEMO_DATA_DIR: dataDir,
      EVENT_PUBLISHER: "redis",
      REDIS_URL: " ",
      DEMO_RELAY: mode,
      OUTBOX_POLL_INTERVAL_MS: "50",
    };
    demo = await startDemo(env, { logger, tail: () => {} });

    for (let i = 0; i < 3; i++) expect((await respond(demo.url, i)).status).toBe(201);
    const first = await health(demo.url);
    expect(first.ready).toBe(false);
    expect(first.relay).toMatchObject({ running: false, reason: "publisher-disabled", backlog: 3 });
    expect((first.relay as { message: string }).message).toMatch(/REDIS_URL/);

    for (let i = 3; i < 5; i++) expect((await respond(demo.url, i)).status).toBe(201);
    expect((await health(demo.url)).relay).toMatchObject({ running: false, reason: "publisher-disabled", backlog: 5 });
    expect((await demo.store.counts()).outbox).toBe(5);

    // Said once, not retried in a loop: no restart of the relay thread.
    expect(lines().filter((l) => /publisher is disabled/.test(l))).toHaveLength(1);
    expect(lines().join("\n")).not.toMatch(/relay thread (exited|restart)/);
  });
});
