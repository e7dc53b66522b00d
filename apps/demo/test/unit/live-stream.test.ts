// The live endpoints under abuse: a client that stops reading, many connect/disconnect cycles, and
// the optional token. The app runs on a real server (node-server) with a real SQLite store and the
// in-process bus; the slow client is a real TCP socket that never reads.
import { getEventListeners, once } from "node:events";
import { connect, type Socket } from "node:net";
import { serve } from "@hono/node-server";
import { createEvent, MemoryBus, MemoryPublisher, MemorySubscriber } from "@kaireon/events-core";
import { recordingLogger } from "@kaireon/events-testkit";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { readDemoOptions } from "../../src/config.js";
import { startDemo } from "../../src/container.js";
import { openStore } from "../../src/database.js";
import { LiveStreams } from "../../src/live-stream.js";
import { LiveView } from "../../src/live-view.js";
import type { DemoStore } from "../../src/store.js";

const TOKEN = "t0ken-for-the-live-view-0123456789";

interface Harness {
  url: string;
  port: number;
  publisher: MemoryPublisher;
  view: LiveView;
  streams: LiveStreams;
  closing: AbortController;
  /** The warnings and errors logged so far. */
  logs: () => string[];
  close(): Promise<void>;
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function startApp(
  options: { liveToken?: string; limits?: { maxQueuedBytes: number; maxQueuedMessages: number } } = {},
): Promise<Harness> {
  const bus = new MemoryBus(10);
  const publisher = new MemoryPublisher({ bus });
  const view = new LiveView(new MemorySubscriber({ bus }));
  await view.start();
  const { store } = await openStore({ DEMO_DATA_DIR: ":memory:", DATABASE_URL: undefined });
  const logger = recordingLogger();
  const streams = new LiveStreams(logger, options.limits);
  const closing = new AbortController();
  const app = createApp({
    store: store as DemoStore,
    eventsEnabled: true,
    source: "test",
    bodyLimit: 4096,
    logger,
    liveView: view,
    liveStreams: streams,
    liveToken: options.liveToken,
    closing: closing.signal,
    health: async () => ({ backend: "memory", publisher: { ready: true }, relay: { running: true, backlog: 7 }, relayMode: "inline" }),
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    publisher,
    view,
    streams,
    closing,
    logs: logger.messages,
    async close() {
      closing.abort();
      (server as unknown as { closeAllConnections(): void }).closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await view.close();
      await publisher.close();
      await store.close();
    },
  };
}

const listenersOf = (view: LiveView) => (view as unknown as { listeners: Set<unknown> }).listeners.size; // test-only reach
const long = (prefix: string) => `${prefix}-${"x".repeat(200)}`;
const bigEvent = (i: number) =>
  createEvent("interaction.recorded.v1", {
    tenantId: long("tenant"),
    customerId: long(`customer-${i}`),
    offerId: long("offer"),
    creativeId: long("creative"),
    channelId: long("channel"),
    interactionType: "click",
    outcomeTypeKey: long("outcome"),
    campaignId: long("campaign"),
    recommendationId: null,
    timestamp: new Date().toISOString(),
  });
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A raw HTTP client that sends its request and then never reads a byte. */
async function stalledClient(port: number, path: string): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  return socket;
}

const SLOW_LIMITS = { maxQueuedBytes: 256 * 1024, maxQueuedMessages: 100_000 };
const BATCH = 20; // ~40 kB: well within the bound, so only a client that does not read falls behind

describe("slow clients", () => {
  it("a client that stops reading is dropped once its queue is full; the queue never grows past the bound", async () => {
    harness = await startApp({ limits: SLOW_LIMITS });
    const socket = await stalledClient(harness.port, "/live/stream");
    try {
      await expect.poll(() => listenersOf(harness!.view), { timeout: 5000, interval: 20 }).toBe(1);
      // Fill the kernel's socket buffers and then the server's queue: at most 64 MB of events.
      let sentBytes = 0;
      for (let i = 0; sentBytes < 64 * 1024 * 1024 && listenersOf(harness.view) > 0; i++) {
        const batch = Array.from({ length: BATCH }, (_, k) => bigEvent(i * BATCH + k));
        await harness.publisher.publishBatch(batch);
        sentBytes += batch.length * JSON.stringify(batch[0]).length;
        await turn();
      }
      expect(listenersOf(harness.view)).toBe(0);
      expect(harness.streams.stats()).toMatchObject({ clients: 0, dropped: 1, queuedBytes: 0, queuedMessages: 0 });
      expect(harness.streams.stats().peakQueuedBytes).toBeLessThanOrEqual(SLOW_LIMITS.maxQueuedBytes);
      expect(harness.logs().join("\n")).toMatch(/live stream: dropped a client that stopped reading/);
      console.info(
        `[figure] stalled client dropped after ${(sentBytes / 1e6).toFixed(1)} MB published; peak queue ${harness.streams.stats().peakQueuedBytes} bytes`,
      );
    } finally {
      socket.destroy();
    }
  });

  it("a client that reads, under the same bound and the same bursts, keeps every event in order", async () => {
    harness = await startApp({ limits: SLOW_LIMITS });
    const res = await fetch(`${harness.url}/live/stream`);
    const reader = res.body!.getReader();
    await expect.poll(() => listenersOf(harness!.view), { timeout: 5000, interval: 20 }).toBe(1);
    const total = 1000;
    const decoder = new TextDecoder();
    let text = "";
    const reading = (async () => {
      while ((text.match(/^event: event$/gm) ?? []).length < total) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
      }
    })();
    for (let i = 0; i < total / BATCH; i++) {
      await harness.publisher.publishBatch(Array.from({ length: BATCH }, (_, k) => bigEvent(i * BATCH + k)));
      await turn();
    }
    await reading;
    const customers = text
      .split("\n\n")
      .filter((m) => m.startsWith("event: event\n"))
      .map((m) => (JSON.parse(m.slice(m.indexOf("data: ") + 6)) as { event: { customerId: string } }).event.customerId.split("-")[1]);
    expect(customers.map(Number)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(harness.streams.stats().dropped).toBe(0);
    await reader.cancel();
  });
});

describe("connections", () => {
  it("connect/disconnect cycles leave no listener behind (closing signal, live view)", async () => {
    harness = await startApp();
    const baseline = getEventListeners(harness.closing.signal, "abort").length;
    for (let i = 0; i < 40; i++) {
      const controller = new AbortController();
      const res = await fetch(`${harness.url}/live/stream`, { signal: controller.signal });
      const reader = res.body!.getReader();
      await reader.read(); // the snapshot: the handler is subscribed
      controller.abort();
      await reader.cancel().catch(() => {});
    }
    await expect.poll(() => listenersOf(harness!.view), { timeout: 5000, interval: 20 }).toBe(0);
    await expect.poll(() => getEventListeners(harness!.closing.signal, "abort").length, { timeout: 5000, interval: 20 }).toBe(baseline);
  });
});

describe("DEMO_LIVE_TOKEN", () => {
  it("with a token set, /live, /live/stream and /live/status need it; a wrong one is refused", async () => {
    harness = await startApp({ liveToken: TOKEN });
    for (const path of ["/live", "/live/stream", "/live/status"]) {
      const none = await fetch(`${harness.url}${path}`);
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const body = (await none.json()) as { error: string; message: string };
      expect(body.error).toBe("UNAUTHORIZED");
      expect(body.message).toMatch(/DEMO_LIVE_TOKEN/);
      expect(body.message).not.toContain(TOKEN);
      expect((await fetch(`${harness.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
      expect((await fetch(`${harness.url}${path}?token=${TOKEN.slice(0, -1)}`)).status).toBe(401);
    }
  });

  it("with a token set, the header and ?token= (the browser's EventSource) are accepted", async () => {
    harness = await startApp({ liveToken: TOKEN });
    const page = await fetch(`${harness.url}/live?token=${TOKEN}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    const byHeader = await fetch(`${harness.url}/live/stream`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(byHeader.status).toBe(200);
    expect(byHeader.headers.get("content-type")).toMatch(/text\/event-stream/);
    await byHeader.body!.cancel();
    const byQuery = await fetch(`${harness.url}/live/stream?token=${encodeURIComponent(TOKEN)}`);
    expect(byQuery.status).toBe(200);
    await byQuery.body!.cancel();
    // The page's figures, polled with the bearer token.
    const status = await fetch(`${harness.url}/live/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      ready: true,
      backend: "memory",
      view: { origin: { mode: "live" }, lag: { samples: 0 }, rates: { perTopic: { "decision.made.v1": expect.any(Array) } } },
    });
  });

  it("with a token set, /health without it shows readiness only; with it, the full report", async () => {
    harness = await startApp({ liveToken: TOKEN });
    const open = (await (await fetch(`${harness.url}/health`)).json()) as Record<string, unknown>;
    expect(open).toEqual({ status: "ok", ready: true, detail: expect.stringMatching(/DEMO_LIVE_TOKEN/) });
    const full = (await (await fetch(`${harness.url}/health`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Record<
      string,
      unknown
    >;
    expect(full).toMatchObject({ status: "ok", ready: true, backend: "memory", relay: { backlog: 7 }, live: { clients: 0, dropped: 0 } });
  });

  it("without a token (loopback only), the live endpoints and the full /health are open as before", async () => {
    harness = await startApp();
    expect((await fetch(`${harness.url}/live`)).status).toBe(200);
    expect(await (await fetch(`${harness.url}/health`)).json()).toMatchObject({ status: "ok", backend: "memory", relay: { backlog: 7 } });
  });
});

describe("DEMO_HOST", () => {
  it("defaults to 127.0.0.1 and ignores the generic HOST variable", () => {
    expect(readDemoOptions({}).DEMO_HOST).toBe("127.0.0.1");
    expect(readDemoOptions({ HOST: "0.0.0.0" }).DEMO_HOST).toBe("127.0.0.1");
  });

  it.each(["0.0.0.0", "::", "192.168.1.20", "demo.example"])(
    "DEMO_HOST=%s without DEMO_LIVE_TOKEN is refused, naming both variables",
    async (host) => {
      expect(() => readDemoOptions({ DEMO_HOST: host })).toThrow(/DEMO_LIVE_TOKEN.*DEMO_HOST|DEMO_HOST.*DEMO_LIVE_TOKEN/);
      await expect(startDemo({ DEMO_HOST: host, PORT: "0", EVENT_PUBLISHER: "memory", DEMO_DATA_DIR: ":memory:" })).rejects.toMatchObject({
        code: "CONFIG_INVALID",
      });
    },
  );

  it("a non-loopback DEMO_HOST with a token, and loopback hosts without one, are accepted", () => {
    expect(readDemoOptions({ DEMO_HOST: "0.0.0.0", DEMO_LIVE_TOKEN: TOKEN })).toMatchObject({
      DEMO_HOST: "0.0.0.0",
      DEMO_LIVE_TOKEN: TOKEN,
    });
    for (const host of ["127.0.0.1", "127.0.0.2", "localhost", "::1"]) expect(readDemoOptions({ DEMO_HOST: host }).DEMO_HOST).toBe(host);
  });

  it("a token shorter than 16 characters is refused", () => {
    expect(() => readDemoOptions({ DEMO_LIVE_TOKEN: "short" })).toThrow(/DEMO_LIVE_TOKEN: .*16/);
  });
});
