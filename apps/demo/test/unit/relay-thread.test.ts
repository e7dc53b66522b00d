// The relay worker's supervision, without a broker: the Redis backend is pointed at a closed port
// (the relay starts and waits for it), then the worker is killed from outside, as a crash would.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, uuidv7 } from "@kaireon/events-core";
import { recordingLogger, sampleInteraction, silentLogger } from "@kaireon/events-testkit";
import { afterEach, expect, it } from "vitest";
import { openStore } from "../../src/database.js";
import { runRelay } from "../../src/relay.js";
import { readRelaySetup } from "../../src/relay-setup.js";
import { RelayThread } from "../../src/relay-thread.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it("a relay thread that dies is restarted, reports through status(), and stops on request", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kaireon-relay-thread-"));
  dirs.push(dataDir);
  const { store } = await openStore({ DEMO_DATA_DIR: dataDir, DATABASE_URL: undefined }); // creates the tables
  await store.close();
  const logger = recordingLogger();
  const env = { EVENT_PUBLISHER: "redis", REDIS_URL: "redis://127.0.0.1:1", DEMO_DATA_DIR: dataDir, REDIS_CONNECT_TIMEOUT_MS: "200" };
  const thread = await RelayThread.start(await readRelaySetup(env), logger, { env });
  try {
    expect((await thread.status()).relay).toMatchObject({ running: true, backlog: 0 });

    // Test-only reach into the handle: kill the worker as a crash would.
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    expect((await thread.status()).relay).toBe("relay thread restarting");
    expect(logger.messages("error").join("\n")).toMatch(/relay thread exited .*restarting in 1000 ms/);
    await expect.poll(async () => (await thread.status()).relay, { timeout: 10_000, interval: 100 }).toMatchObject({ running: true });
  } finally {
    await thread.stop();
  }
  expect((await thread.status()).relay).toBe("relay thread stopped");
});

it("the worker runs from the setup the server parsed: with an empty environment it still relays to the configured backend", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "kaireon-relay-thread-"));
  dirs.push(dataDir);
  const { store, outbox } = await openStore({ DEMO_DATA_DIR: dataDir, DATABASE_URL: undefined });
  const logger = silentLogger;
  const setup = await readRelaySetup({
    EVENT_PUBLISHER: "redis",
    REDIS_URL: "redis://127.0.0.1:1",
    DEMO_DATA_DIR: dataDir,
    REDIS_CONNECT_TIMEOUT_MS: "200",
    OUTBOX_BATCH_SIZE: "7",
  });
  // Were the worker to read EVENT_PUBLISHER/REDIS_URL itself, an empty environment would give it a
  // disabled stream (redis without REDIS_URL), which it refuses.
  const thread = await RelayThread.start(setup, logger, { outbox, env: {} });
  try {
    expect(thread.disabled).toBeUndefined();
    const { relay, publisher } = await thread.status();
    expect(relay).toMatchObject({ running: true });
    expect(publisher).toMatchObject({ backend: "redis", detail: expect.stringContaining("127.0.0.1:1") });
    expect((publisher as { disabled?: boolean }).disabled).not.toBe(true);
  } finally {
    await thread.stop();
    await store.close();
  }
});

/**
 * A fresh SQLite store (tables created) and a relay setup on the in-memory backend: the worker's own
 * bus, so the rows are sent without a broker.
 */
async function memoryRelayStore() {
  const dataDir = mkdtempSync(join(tmpdir(), "kaireon-relay-thread-"));
  dirs.push(dataDir);
  const { store, outbox } = await openStore({ DEMO_DATA_DIR: dataDir, DATABASE_URL: undefined });
  const setup = await readRelaySetup({ EVENT_PUBLISHER: "memory", DEMO_DATA_DIR: dataDir });
  return { store, outbox, setup };
}

/** An interaction with its event, as the /respond route stores it. */
async function respond(store: import("../../src/store.js").DemoStore, i: number) {
  const data = sampleInteraction({ customerId: `cust-${i}`, channelId: "web", outcomeTypeKey: "impression" });
  await store.recordInteraction({ interactionId: uuidv7(), ...data }, createEvent("interaction.recorded.v1", data));
}

it("the server commits the relay thread's cursor (one writer): every sent batch moves it through the store's group commit", async () => {
  const { store, outbox, setup } = await memoryRelayStore();
  const cursors: number[] = [];
  let failNext = true;
  const cursor = async (seq: number) => {
    cursors.push(seq);
    // The first write fails, as a closing store would: those rows stay pending and go out again.
    if (failNext) {
      failNext = false;
      throw new Error("simulated: the store is closing");
    }
    await store.advanceOutboxCursor?.(seq);
  };
  const thread = await RelayThread.start(setup, silentLogger, { outbox, env: {}, cursor });
  try {
    for (let i = 1; i <= 5; i++) await respond(store, i);
    await expect.poll(async () => (await outbox.stats()).backlog, { timeout: 20_000, interval: 50 }).toBe(0);
    expect(cursors.length).toBeGreaterThanOrEqual(2);
    expect(cursors.at(-1)).toBe(5);
    // Sent again after the failed write: at least once, never lost.
    expect((await thread.status()).relay).toMatchObject({ running: true, storeErrors: 1 });
  } finally {
    await thread.stop();
    await store.close();
  }
});

it("a cursor write the server never answers is given up after the cursor timeout, and the next write is still asked for", async () => {
  const { store, outbox, setup } = await memoryRelayStore();
  const cursors: number[] = [];
  // The first write hangs for good (a store stuck on a lock, say); every later one commits. Before the
  // fix the worker never asked again: its one nudge stayed unanswered, every later write timed out,
  // and the rows went out again and again while the stored cursor never moved.
  const cursor = (seq: number) => {
    cursors.push(seq);
    if (cursors.length === 1) return new Promise<void>(() => {});
    return Promise.resolve(store.advanceOutboxCursor?.(seq));
  };
  const thread = await RelayThread.start(setup, silentLogger, { outbox, env: {}, cursor, cursorTimeoutMs: 500 });
  try {
    for (let i = 1; i <= 3; i++) await respond(store, i);
    await expect.poll(async () => (await outbox.stats()).backlog, { timeout: 15_000, interval: 50 }).toBe(0);
    expect(cursors.length).toBeGreaterThanOrEqual(2);
    expect(cursors.at(-1)).toBe(3);
  } finally {
    await thread.stop();
    await store.close();
  }
});

it("a row committed after the claim read the outbox but before the relay said it was idle is claimed at once, not after the contended sleep", async () => {
  const { store, setup } = await memoryRelayStore();
  // The relay thread's hooks (relay-thread.ts wakeHooks: a commit count, the count at each claim),
  // with the window made to happen: a row is stored as a claim starts, and its group commit lands
  // after the claim's read, before the relay says it is idle. No wake-up reaches the relay (this
  // store is not its connection, as the server's wake-up is skipped for a relay at work). A timer of
  // 20 ms started as the relay says idle tells which comes first: the next claim (the relay woke
  // itself), or the timer (the relay slept through the row: 25 ms, the outbox's contended wait).
  let armed = false;
  let stored = false;
  let commits = 0;
  let atClaim = 0;
  let answer: ((sleptThrough: boolean) => void) | undefined;
  let outcome: Promise<boolean> | undefined;
  const hooks = {
    beforeClaim: () => {
      atClaim = commits;
      answer?.(false);
      answer = undefined;
      if (!armed || stored) return;
      stored = true;
      void respond(store, 1).then(() => {
        commits++;
      });
    },
    onIdle: (idle: boolean) => {
      if (!idle || outcome || commits === atClaim) return;
      outcome = new Promise<boolean>((resolve) => {
        answer = resolve;
        setTimeout(() => {
          answer = undefined;
          resolve(true);
        }, 20);
      });
    },
    rowsArrived: () => commits !== atClaim,
  };
  const relay = await runRelay(setup, silentLogger, { hooks });
  try {
    armed = true;
    relay.relay.notify(); // a claim now, with the row stored as it starts
    await expect.poll(() => outcome, { timeout: 10_000, interval: 10 }).toBeDefined();
    // false: the claim came before the 20 ms timer; true: the relay slept through the row.
    expect(await outcome).toBe(false);
    await expect.poll(async () => (await relay.relay.metrics()).backlog, { timeout: 10_000, interval: 20 }).toBe(0);
  } finally {
    await relay.stop();
    await store.close();
  }
});
