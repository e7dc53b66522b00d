// The infrastructure container: the one place that reads the environment and wires the demo —
// publisher (core's loadPublisher, whatever EVENT_PUBLISHER selects), store + outbox, relay, live view,
// HTTP server — and owns start-up and graceful shutdown (stop accepting, drain the relay, close the
// publisher, close the database). Nothing else in the demo reads process.env.

import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import {
  consoleLogger,
  type Env,
  type Logger,
  loadPublisher,
  loadSubscriber,
  MemoryBus,
  type Publisher,
  readCoreConfig,
} from "@kaireon/events-core";
import { createApp } from "./app.js";
import { backendEnv, type DemoOptions, readDemoOptions } from "./config.js";
import { healthReport } from "./health.js";
import { LiveStreams } from "./live-stream.js";
import { LiveView } from "./live-view.js";
import { isPublisherDisabled, leaveCheckpointsToRelay, openStore, startRelay } from "./outbox.js";
import { RelayThread } from "./relay-thread.js";
import { demoSecrets, redactDeep, redactError, redactingLogger } from "./secrets.js";
import type { DemoStore } from "./store.js";

/** How long shutdown waits for open connections (in-flight requests, ending live streams) before it closes them. */
const SHUTDOWN_GRACE_MS = 5000;

export interface ContainerOptions {
  logger?: Logger;
  /** Where the terminal tail goes (default stdout); tests pass their own. */
  tail?: (line: string) => void;
  /** The in-process bus of EVENT_PUBLISHER=memory (tests pass one to simulate an outage). */
  memoryBus?: MemoryBus;
}

export interface Container {
  readonly options: DemoOptions;
  readonly publisher: Publisher;
  readonly store: DemoStore;
  readonly liveView: LiveView | undefined;
  /** The address the server listens on, e.g. http://127.0.0.1:3000 */
  readonly url: string;
  stop(): Promise<void>;
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
  const core = readCoreConfig(eventEnv);
  // One bus per container: the embedded backend's publisher and the live view share it.
  const memoryBus = containerOptions.memoryBus ?? new MemoryBus(1000);
  const loadOptions = { logger, memoryBus, resolveFrom: import.meta.url };

  const publisher = await loadPublisher(eventEnv, loadOptions);
  const cleanups: Array<() => Promise<void>> = [() => publisher.close()];
  const undo = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };

  try {
    const { store, outbox } = await openStore(options);
    cleanups.push(() => store.close());
    // With events disabled nothing is enqueued, but a backlog left by an earlier run still drains.
    // The in-memory backend's bus lives in this thread, and so does a ":memory:" database: their
    // relay cannot move to a worker.
    const threadable = publisher.backend !== "memory" && options.DEMO_DATA_DIR !== ":memory:";
    const relayMode = options.DEMO_RELAY === "thread" && !threadable ? "inline" : options.DEMO_RELAY;
    // A disabled stream (redis without REDIS_URL) is refused by the relay: the server keeps serving,
    // the events wait in the outbox, /health says what to set. Not a crash, and not a restart loop.
    let inlineDisabled: string | undefined;
    const relay =
      relayMode === "inline"
        ? await startRelay(outbox, publisher, env, logger).catch((error: unknown) => {
            if (!isPublisherDisabled(error)) throw error;
            inlineDisabled = error.message;
            return undefined;
          })
        : undefined;
    if (relay) cleanups.push(() => relay.stop());
    const relayThread = relayMode === "thread" ? await RelayThread.start(env, logger) : undefined;
    const relayDisabled = () => inlineDisabled ?? relayThread?.disabled;
    if (relayDisabled()) {
      logger.error(`[demo] relay not running: ${relayDisabled()} (the server keeps serving; /health shows the backlog)`);
    }
    if (relayThread && !relayThread.disabled) {
      // The relay thread checkpoints the WAL; the server's own automatic checkpoint only as a fallback.
      leaveCheckpointsToRelay(outbox);
      cleanups.push(async () => {
        await relayThread.stop();
      });
      const offEnqueue = outbox.onEnqueue(() => relayThread.wake());
      cleanups.push(async () => offEnqueue());
    }

    let liveView: LiveView | undefined;
    if (options.DEMO_LIVE_VIEW) {
      try {
        const subscriber = await loadSubscriber(eventEnv, loadOptions);
        const tail = containerOptions.tail ?? (options.DEMO_TAIL ? (line: string) => process.stdout.write(`${line}\n`) : undefined);
        const view = new LiveView(subscriber, { ...(tail ? { tail } : {}), onError: (m) => logger.warn(m) });
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
      source: core.source,
      bodyLimit: options.DEMO_BODY_LIMIT,
      logger,
      liveView,
      closing: closing.signal,
      liveStreams,
      liveToken: options.DEMO_LIVE_TOKEN,
      health: async () =>
        redactDeep(
          await healthReport({ requested: core.requested, relayMode, publisher, relay, relayThread, relayDisabled, store, outbox }),
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
      `[demo] listening on ${url} — backend ${publisher.backend}` +
        `${core.requested !== publisher.backend ? ` (${core.requested})` : ""}, store ${store.kind} ${store.location}` +
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
