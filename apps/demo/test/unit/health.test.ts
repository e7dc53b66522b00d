// /health answers within its bound whatever its sources do: a relay thread that never replies, a
// publisher whose ready() never settles. Each part that does not answer is reported as `timeout: …`.
import { silentLogger as logger } from "@kaireon/events-testkit";
import { afterEach, expect, it } from "vitest";
import { healthReport } from "../../src/health.js";
import type { RelaySetup } from "../../src/relay-setup.js";
import { RelayThread } from "../../src/relay-thread.js";

const silentWorker = new URL("../fixtures/silent-relay-worker.mjs", import.meta.url);
const threads: RelayThread[] = [];
afterEach(async () => {
  for (const thread of threads.splice(0)) await thread.stop();
});

const pendingOf = (thread: RelayThread) => (thread as unknown as { pending: Map<number, unknown> }).pending; // test-only reach

it("a relay thread that never answers: status() reports a timeout, and no reply stays pending", { timeout: 15_000 }, async () => {
  // The stand-in worker reads no setup.
  const thread = await RelayThread.start({} as RelaySetup, logger, { script: silentWorker, statusTimeoutMs: 200 });
  threads.push(thread);
  const statuses = await Promise.all(Array.from({ length: 20 }, () => thread.status()));
  for (const status of statuses) {
    expect(status.relay).toMatch(/^timeout: the relay thread did not answer within 200 ms/);
    expect(status.publisher).toMatch(/^timeout/);
  }
  // Twenty callers at once share one request to the thread; once it timed out, nothing is left waiting.
  expect(pendingOf(thread).size).toBe(0);
  for (let i = 0; i < 5; i++) await thread.status();
  expect(pendingOf(thread).size).toBe(0);
});

it("a publisher whose ready() never settles (a fake: no real backend hangs on demand): health says timeout", {
  timeout: 15_000,
}, async () => {
  const neverSettles = () => new Promise<never>(() => {});
  const body = await healthReport(
    {
      requested: "redis",
      relayMode: "inline",
      publisher: { backend: "redis", ready: neverSettles },
      relay: { metrics: neverSettles },
      store: { counts: async () => ({ interactions: 0, decisions: 0, behaviourEvents: 0, outbox: 0 }) },
    },
    200,
  );
  expect(body).toMatchObject({
    backend: "redis",
    publisher: expect.stringMatching(/^timeout: publisher\.ready\(\) did not settle within 200 ms/),
    relay: expect.stringMatching(/^timeout: relay\.metrics\(\) did not settle within 200 ms/),
    counts: { outbox: 0 },
  });
});
