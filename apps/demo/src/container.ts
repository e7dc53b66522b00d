// The infrastructure container: the one place that reads the environment and wires the demo —
// the backend's parsed options (whatever EVENT_PUBLISHER selects), store + outbox, relay (on its
// worker thread, handed what was parsed here; or on this event loop with its publisher), live view,
// HTTP server — and owns start-up and graceful shutdown (stop accepting, drain the relay, close the
// publisher, close the database). Nothing else in the server reads process.env.

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { consoleLogger, type Env, type Logger, loadSubscriber, MemoryBus, type Publisher } from "@kaireon/events-core";
import { createApp } from "./app.js";
import { backendEnv, type DemoOptions, readDemoOptions } from "./config.js";
import { openStore } from "./database.js";
import { HEALTH_TIMEOUT_MS, healthReport, within } from "./health.js";
import { LiveStreams } from "./live-stream.js";
import { LiveView } from "./live-view.js";
import { isPublisherDisabled, leaveCheckpointsToRelay, startRelay } from "./relay.js";
import { createPublisher, readPublisherSetup, readRelayTuning } from "./relay-setup.js";
import { RelayThread } from "./relay-thread.js";
import { demoSecrets, redactDeep, redactError, redactingLogger } from "./secrets.js";
import type { DemoStore } from "./store.js";
import type { Telemetry } from "./telemetry.js";

/** How long shutdown waits for open connections (in-flight requests, ending live streams) before it closes them. */
const SHUTDOWN_GRACE_MS = 5000;

export interface ContainerOptions {
  logger?: Logger;
  /** Where the terminal tail goes (default stdout); tests pass their own. */
  tail?: (line: string) => void;
  /** The in-process bus of EVENT_PUBLISHER=memory (tests pass one to simulate an outage). */
  memoryBus?: MemoryBus;
  /** OpenTelemetry started by main.ts from the OTEL_* variables: /metrics serves its Prometheus reader. */
  telemetry?: Telemetry | undefined;
}

export interface Container {
  readonly options: DemoOptions;
  /**
   * The publisher of the relay on this event loop (DEMO_RELAY=inline, and always for the in-memory
   * backend); undefined when the relay runs on its worker thread or in its own process, which have theirs.
   */
  readonly publisher: Publisher | undefined;
  readonly store: DemoStore;
  readonly liveView: LiveView | undefined;
  /** The address the server listens on, e.g. http://127.0.0.1:3000 */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Whether the backend keeps its events, so the live view can start from the earliest retained one
 * (and its totals match the store's counts). Redis pub/sub, EventBridge's queue and the in-memory
 * bus keep none from before the view subscribed.
 */
export function keepsEvents(env: Env, backend: string): boolean {
  if (backend === "redis") return (env.REDIS_MODE ?? "").trim().toLowerCase() === "streams";
  return backend === "kafka" || backend === "msk" || backend === "kinesis";
}

/** Starts the demo from `env`. A start-up error is thrown with the environment's secrets masked. */
export async function startDemo(env: Env = process.env, containerOptions: ContainerOptions = {}): Promise<Container> {
  const secrets = demoSecrets(env);
  return start(env, containerOptions, secrets).catch((error: unknown) => {
    throw redactError(error, secrets);
  });
}

async function start(env: Env, containerOptions: ContainerOptions, secrets: readonly string[]): Promise<Container> {
  // Every log line of the demo and of the packages it loads goes through this one logger.
  const logger = redactingLogger(containerOptions.logger ?? consoleLogger, secrets);
  const options = readDemoOptions(env);
  if (env.HOST?.trim() && !env.DEMO_HOST?.trim()) {
    logger.warn(
      `[demo] HOST is not read (shells and platforms set it for their own use); DEMO_HOST says where to listen — using ${options.DEMO_HOST}`,
    );
  }
  const eventEnv = backendEnv(env);
  // The backend's variables, parsed once here: the relay thread gets them as they are.
  const publisherSetup = await readPublisherSetup(eventEnv);
  const tuning = readRelayTuning(env);
  // One bus per container: the embedded backend's publisher and the live view share it.
  const memoryBus = containerOptions.memoryBus ?? new MemoryBus(1000);

  const cleanups: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };

  try {
    const { store, outbox, location } = await openStore(options);
    cleanups.push(() => store.close());
    // With events disabled nothing is enqueued, but a backlog left by an earlier run still drains.
    // The in-memory backend's bus lives in this thread, and so does a ":memory:" database: their
    // relay cannot move to a worker.
    const threadable = publisherSetup.backend !== "memory" && options.DEMO_DATA_DIR !== ":memory:";
    const relayMode = options.DEMO_RELAY === "thread" && !threadable ? "inline" : options.DEMO_RELAY;
    // Only a relay on this event loop needs a publisher here; a relay thread or process has its own.
    const publisher = relayMode === "inline" ? await createPublisher(publisherSetup, { logger, memoryBus }) : undefined;
    if (publisher) cleanups.push(() => publisher.close());
    // A disabled stream (redis without REDIS_URL) is refused by the relay: the server keeps serving,
    // the events wait in the outbox, /health says what to set. Not a crash, and not a restart loop.
    let inlineDisabled: string | undefined;
    const relay = publisher
      ? await startRelay(outbox, publisher, tuning, logger).catch((error: unknown) => {
          if (!isPublisherDisabled(error)) throw error;
          inlineDisabled = error.message;
          return undefined;
        })
      : undefined;
    if (relay) cleanups.push(() => relay.stop());
    const relayThread =
      relayMode === "thread"
        ? await RelayThread.start({ database: location, publisher: publisherSetup, tuning, secrets: [...secrets] }, logger, {
            outbox,
            env,
            cursor: store.advanceOutboxCursor?.bind(store),
          })
        : undefined;
    const relayDisabled = () => inlineDisabled ?? relayThread?.disabled;
    if (relayDisabled()) {
      logger.error(`[demo] relay not running: ${relayDisabled()} (the server keeps serving; /health shows the backlog)`);
    }
    if (relayThread && !relayThread.disabled) {
      store.followRelayCursor?.(relayThread.relayCursor);
      // The relay thread checkpoints the WAL; the server's own automatic checkpoint only as a fallback.
      leaveCheckpointsToRelay(outbox);
      cleanups.push(async () => {
        await relayThread.stop();
        // The relay's last cursor, if no group commit took it yet: else its last batch is sent again at the next start.
        const last = relayThread.relayCursor.pending();
        if (last !== undefined) await store.advanceOutboxCursor?.(last);
      });
    }

    let liveView: LiveView | undefined;
    if (options.DEMO_LIVE_VIEW) {
      try {
        const subscriber = await loadSubscriber(eventEnv, { logger, memoryBus, resolveFrom: import.meta.url });
        const tail = containerOptions.tail ?? (options.DEMO_TAIL ? (line: string) => process.stdout.write(`${line}\n`) : undefined);
        const view = new LiveView(subscriber, {
          ...(tail ? { tail } : {}),
          onError: (m) => logger.warn(m),
          replay: keepsEvents(eventEnv, subscriber.backend),
        });
        liveView = view;
        cleanups.push(() => view.close());
        await view.start().catch((error: Error) => {
          // E.g. Kafka topics that do not exist until the first publish: keep trying in the background.
          logger.warn(`[demo] live view not subscribed yet (${error.message}); retrying every 5 s`);
          const retry = setInterval(() => {
            view.start().then(
              () => {
                clearInterval(retry);
                logger.info("[demo] live view subscribed");
              },
              () => {},
            );
          }, 5000);
          retry.unref();
          cleanups.push(async () => clearInterval(retry));
        });
      } catch (error) {
        // The view is a convenience: the API keeps working when the backend cannot be read.
        logger.warn(`[demo] live view off: ${(error as Error).message}`);
        liveView = undefined;
      }
    }

    const closing = new AbortController();
    const liveStreams = new LiveStreams(logger);
    const app = createApp({
      store,
      eventsEnabled: options.DEMO_EVENTS,
      source: publisherSetup.source,
      bodyLimit: options.DEMO_BODY_LIMIT,
      logger,
      liveView,
      closing: closing.signal,
      liveStreams,
      liveToken: options.DEMO_LIVE_TOKEN,
      outboxStats: async () => redactDeep(await within(() => outbox.stats(), HEALTH_TIMEOUT_MS, "outbox.stats()"), secrets),
      prometheusText: containerOptions.telemetry?.prometheusText,
      health: async () =>
        redactDeep(
          await healthReport({
            requested: publisherSetup.requested,
            relayMode,
            publisher: publisher ?? { backend: publisherSetup.backend },
            relay,
            relayThread,
            relayDisabled,
            store,
            outbox,
          }),
          secrets,
        ),
    });

    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: options.PORT, hostname: options.DEMO_HOST }, () => resolve(s));
      s.once("error", reject);
    });
    // A server error after start-up (e.g. EMFILE) is logged, never a crash.
    server.on("error", (error) => logger.error(`[demo] server error: ${error.message}`));
    const address = server.address() as AddressInfo;
    const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        // 1. stop accepting; end live streams so open connections do not hold the close.
        closing.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const http = server as import("node:http").Server;
        http.closeIdleConnections?.();
        // A live page that stopped reading would hold its ended stream (and the close) open for ever.
        const cutOff = setTimeout(() => http.closeAllConnections?.(), SHUTDOWN_GRACE_MS);
        await closed;
        clearTimeout(cutOff);
        // 2. drain the relay (in-flight batch), 3. close the live view, publisher and database.
        await undo();
      })();
      return stopping;
    };

    logger.info(
      `[demo] listening on ${url} — backend ${publisherSetup.backend}` +
        `${publisherSetup.requested !== publisherSetup.backend ? ` (${publisherSetup.requested})` : ""}, store ${store.kind} ${store.location}` +
        `, relay ${relayDisabled() ? "NOT running (the stream is disabled, see /health)" : relayMode === "separate" ? "separate (pnpm --filter @kaireon/demo relay)" : relayMode === "thread" ? "on a worker thread" : "on the server's event loop"}` +
        `${options.DEMO_EVENTS ? "" : ", events disabled"}` +
        `${liveView ? `, live view ${url}/live${options.DEMO_LIVE_TOKEN ? "?token=<DEMO_LIVE_TOKEN>" : ""}` : ""}`,
    );
    return { options, publisher, store, liveView, url, stop };
  } catch (error) {
    await undo();
    throw error;
  }
}
