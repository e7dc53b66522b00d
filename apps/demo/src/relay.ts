// Running a relay of the demo: on the server's event loop (startRelay on the server's own outbox),
// or with a connection and a publisher of its own (runRelay: the relay thread and relay-main), given
// a RelaySetup parsed by whoever started it. On SQLite the relay's thread also takes the WAL checkpoints.

import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { type ConfigError, EventsError, type Logger, type Publisher, redactUrl } from "@kaireon/events-core";
import {
  createOutboxRelay,
  type OutboxMetrics,
  type OutboxRelay,
  type OutboxStore,
  type SqliteDatabaseLike,
  type SqliteOutbox,
} from "@kaireon/events-outbox";
import { connectOutbox, type DatabaseLocation } from "./database.js";
import { createPublisher, type RelaySetup, type RelayTuning } from "./relay-setup.js";
import { redactError, redactingLogger } from "./secrets.js";

/**
 * The relay's refusal of a disabled stream (EVENT_PUBLISHER=redis without REDIS_URL): it would mark
 * rows sent that went nowhere. Not a crash for the demo: the server keeps serving, the events wait
 * in the outbox, and /health says what to set.
 */
export function isPublisherDisabled(error: unknown): error is ConfigError {
  return EventsError.isInstance(error) && error.code === "CONFIG_INVALID" && error.details?.reason === "publisher-disabled";
}

/** Starts a relay on `outbox` → `publisher`. `migrate`: the relay creates/upgrades the outbox table first. */
export async function startRelay(
  outbox: OutboxStore,
  publisher: Publisher,
  tuning: RelayTuning,
  logger: Logger,
  { migrate = false, onIdle }: { migrate?: boolean; onIdle?: ((idle: boolean) => void) | undefined } = {},
): Promise<OutboxRelay> {
  const relay = createOutboxRelay({ store: outbox, publisher, logger, migrate, ...tuning, ...(onIdle ? { onIdle } : {}) });
  try {
    await relay.start();
  } catch (error) {
    await relay.stop().catch(() => {});
    throw error;
  }
  return relay;
}

/** How often a relay thread or process checkpoints the SQLite WAL (PASSIVE: never blocks the writer). */
const CHECKPOINT_EVERY_MS = 100;
/** The server's own automatic checkpoint while a relay thread does them: a fallback, if that thread stops. */
const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;
/** How long stop() waits for the checkpoint thread to close its connection before it ends the thread. */
const CHECKPOINT_STOP_MS = 2_000;

/**
 * Checkpoints the SQLite WAL every CHECKPOINT_EVERY_MS, on a worker thread with its own connection
 * (checkpoint-thread.ts says why not on the relay's), so the server's commits do not have to (each
 * checkpoint writes the committed pages into the database file and fsyncs it: a latency spike for
 * whichever request's commit triggers it). No-op on PostgreSQL. Returns a stop function (bounded).
 */
export function startCheckpoints(location: DatabaseLocation): () => Promise<void> {
  if (location.kind !== "sqlite") return async () => {};
  const script = new URL(import.meta.url.endsWith(".ts") ? "../dist/checkpoint-thread.js" : "./checkpoint-thread.js", import.meta.url);
  const worker = new Worker(script, { workerData: { file: location.file, everyMs: CHECKPOINT_EVERY_MS } });
  // A checkpoint thread that fails to start or dies leaves the server's fallback checkpoint in charge;
  // its exit is awaited from the start, so stop() also returns for a thread that is already gone.
  worker.on("error", () => {});
  const exited = once(worker, "exit").then(
    () => undefined,
    () => undefined,
  );
  worker.unref();
  return async () => {
    const timer = setTimeout(() => void worker.terminate(), CHECKPOINT_STOP_MS);
    try {
      worker.postMessage("stop");
    } catch {
      // already gone
    }
    await exited;
    clearTimeout(timer);
  };
}

/** The server's side of startCheckpoints: its own automatic checkpoint becomes the fallback. */
export function leaveCheckpointsToRelay(outbox: OutboxStore): void {
  sqliteDb(outbox)?.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
}

function sqliteDb(outbox: OutboxStore): SqliteDatabaseLike | undefined {
  return outbox.kind === "sqlite" ? (outbox as SqliteOutbox).db : undefined;
}

/**
 * What a relay thread needs to wake its relay only when it must (relay-thread.ts): `beforeClaim`
 * as each claim starts, before it reads the outbox; the relay's `onIdle`; `rowsArrived` after each
 * publish, still in flight, and as the relay says it is idle — true: rows were committed since the
 * claim, so notify() the relay (which then lets more of them join its next batch: the linger, or
 * claims them at once when idle) without a message.
 */
export interface RelayHooks {
  beforeClaim?: () => void;
  onIdle?: (idle: boolean) => void;
  rowsArrived?: () => boolean;
}

/**
 * The relay's onIdle for `hooks`. A row committed after the claim read the outbox but before the
 * relay said it was idle gets no wake-up (the server saw the relay at work, and sent none): the
 * relay would sleep through it, 25 ms when it is due (the outbox's contended wait). So once idle is
 * said, `rowsArrived` is asked, and the relay wakes itself when rows came — the server counts a
 * commit before it looks at idle, and the relay says idle before it looks at the count (both
 * sequentially consistent Atomics), so one of the two always sees the other. That is the SQLite
 * store, whose wake-up fires after its commit; PostgreSQL's fires before COMMIT, and NOTIFY,
 * delivered after it, is what wakes a relay that missed it there.
 */
export function idleWithArrivals(hooks: RelayHooks | undefined, notify: () => void): ((idle: boolean) => void) | undefined {
  const onIdle = hooks?.onIdle;
  const rowsArrived = hooks?.rowsArrived;
  if (!onIdle) return undefined;
  return (idle) => {
    onIdle(idle);
    if (idle && rowsArrived?.()) notify();
  };
}

/** `publisher`, with `after` called as each publishBatch settles. */
function afterEachPublish(publisher: Publisher, after: () => void): Publisher {
  return new Proxy(publisher, {
    get(target, prop, receiver) {
      if (prop !== "publishBatch") {
        const value = Reflect.get(target, prop, receiver);
        // Called on the publisher itself: its methods may use private fields, which a proxy has not.
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (events: Parameters<Publisher["publishBatch"]>[0]) =>
        target.publishBatch(events).finally(() => {
          after();
        });
    },
  });
}

/** `outbox`, with `beforeClaim` called as each claim starts. */
function withBeforeClaim(outbox: OutboxStore, beforeClaim: () => void): OutboxStore {
  return Object.assign(Object.create(outbox) as OutboxStore, {
    claim(limit: number) {
      beforeClaim();
      return outbox.claim(limit);
    },
  });
}

/** Where a relay reads from, without credentials (for the start-up line). */
export function describeLocation(location: DatabaseLocation): string {
  return location.kind === "sqlite" ? `sqlite ${location.file}` : `postgres ${redactUrl(location.url)}`;
}

/** A relay with its own publisher and database connection: the relay thread's and relay-main's. */
export interface StandaloneRelay {
  publisher: Publisher;
  relay: OutboxRelay;
  /** Finishes the in-flight batch, closes the publisher and the connection; the relay's last metrics. */
  stop(): Promise<OutboxMetrics | undefined>;
}

/**
 * How often relay-main looks for the server's commits on SQLite (PRAGMA data_version, a counter in
 * shared memory): an idle relay in its own process sends a new row within about this long.
 */
export const SEPARATE_WATCH_MS = 2;

/**
 * Connects to the outbox and creates the publisher `setup` describes, starts the relay and (SQLite)
 * the checkpoints. `prepare` (relay-main, which may start first): create the SQLite file if needed
 * and migrate the outbox; a relay thread's server did both already. `separate` (relay-main): nothing
 * in this process enqueues, so on SQLite the relay watches for other processes' commits.
 * `cursorWriter` (a relay thread, SQLite): the relay's cursor is committed by the server's writer.
 * `hooks`: the relay thread's wake-ups (see RelayHooks).
 */
export async function runRelay(
  setup: RelaySetup,
  logger: Logger,
  {
    prepare = false,
    separate = false,
    cursorWriter,
    hooks,
  }: {
    prepare?: boolean;
    separate?: boolean;
    cursorWriter?: ((seq: number) => Promise<void>) | undefined;
    hooks?: RelayHooks | undefined;
  } = {},
): Promise<StandaloneRelay> {
  const log = redactingLogger(logger, setup.secrets);
  return openRelay(setup, log, prepare, separate, cursorWriter, hooks).catch((error: unknown) => {
    throw redactError(error, setup.secrets);
  });
}

async function openRelay(
  setup: RelaySetup,
  logger: Logger,
  prepare: boolean,
  separate: boolean,
  cursorWriter: ((seq: number) => Promise<void>) | undefined,
  hooks: RelayHooks | undefined,
): Promise<StandaloneRelay> {
  const created = await createPublisher(setup.publisher, { logger });
  let started: OutboxRelay | undefined;
  const publisher = hooks?.rowsArrived
    ? afterEachPublish(created, () => {
        if (hooks.rowsArrived?.()) started?.notify();
      })
    : created;
  try {
    const connection = connectOutbox(setup.database, {
      create: prepare,
      ...(separate ? { watchCommitsMs: SEPARATE_WATCH_MS } : {}),
      cursorWriter,
    });
    try {
      const outbox = hooks?.beforeClaim ? withBeforeClaim(connection.outbox, hooks.beforeClaim) : connection.outbox;
      const relay = await startRelay(outbox, publisher, setup.tuning, logger, {
        migrate: prepare,
        onIdle: idleWithArrivals(hooks, () => started?.notify()),
      });
      started = relay;
      const stopCheckpoints = startCheckpoints(setup.database);
      return {
        publisher,
        relay,
        async stop() {
          try {
            await relay.stop();
          } finally {
            await stopCheckpoints();
          }
          const metrics = await relay.metrics().catch(() => undefined);
          await publisher.close().catch(() => {});
          await connection.close().catch(() => {});
          return metrics;
        },
      };
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  } catch (error) {
    // A publisher left open (a client reconnecting) would keep the thread or process alive.
    await publisher.close().catch(() => {});
    throw error;
  }
}
