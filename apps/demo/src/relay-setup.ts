// What a relay of the demo needs, read once from the environment by whoever starts it — the server
// for its relay thread (or the relay on its own event loop), relay-main for itself — as plain data:
// where the database is, the backend's parsed options, the OUTBOX_* tuning. A relay thread gets it
// as it is and reads no environment variable itself.

import {
  type BackendId,
  createMemoryPublisher,
  DisabledPublisher,
  type Env,
  type Logger,
  loadBackend,
  type MemoryBus,
  type Publisher,
  readCoreConfig,
} from "@kaireon/events-core";
import { readOutboxConfig } from "@kaireon/events-outbox";
import { backendEnv, readDemoOptions } from "./config.js";
import { type DatabaseLocation, databaseLocation } from "./database.js";
import { demoSecrets } from "./secrets.js";

export interface PublisherSetup {
  backend: BackendId;
  /** EVENT_PUBLISHER as given (e.g. `redpanda` for the kafka backend). */
  requested: string;
  source: string;
  /** The backend's options as its schema parsed them; undefined: deliberately unconfigured (a disabled stream). */
  options: unknown;
}

export type RelayTuning = ReturnType<typeof readOutboxConfig>;

export interface RelaySetup {
  database: DatabaseLocation;
  publisher: PublisherSetup;
  tuning: RelayTuning;
  /** The environment's secrets, masked in everything the relay logs or reports. */
  secrets: string[];
}

/**
 * The demo's relay linger when OUTBOX_LINGER_MS is unset. The linger adapts (see the outbox README):
 * an idle relay sends a new row at once; only while rows are committed faster than it sends does it
 * wait this long before its next claim, so a busy period's rows share batches (one claim, one cursor
 * write, one pipelined send) for at most 2 ms more latency. It was a fixed 20 ms wait after every
 * wake-up before: p50/p99 14/30 ms end to end under load, set by the wait, not the work.
 */
export const DEMO_LINGER_MS = 2;

/** OUTBOX_* as relay options, with the demo's linger default. */
export function readRelayTuning(env: Env): RelayTuning {
  const tuning = readOutboxConfig(env);
  if (!env.OUTBOX_LINGER_MS?.trim()) tuning.lingerMs = DEMO_LINGER_MS;
  return tuning;
}

/** EVENT_PUBLISHER and the selected backend's variables, parsed (a bad one is a ConfigError naming it). */
export async function readPublisherSetup(env: Env): Promise<PublisherSetup> {
  const { backend, requested, source } = readCoreConfig(env);
  if (backend === "memory") return { backend, requested, source, options: undefined };
  const descriptor = await loadBackend(backend, { resolveFrom: import.meta.url });
  return { backend, requested, source, options: descriptor.fromEnv(env) };
}

/** Everything a relay needs from `env`; relay-main's (the server builds it from what it already read). */
export async function readRelaySetup(env: Env): Promise<RelaySetup> {
  return {
    database: databaseLocation(readDemoOptions(env)),
    publisher: await readPublisherSetup(backendEnv(env)),
    tuning: readRelayTuning(env),
    secrets: demoSecrets(env),
  };
}

/** The publisher `setup` describes; the same one core's loadPublisher would build from the environment. */
export async function createPublisher(setup: PublisherSetup, context: { logger: Logger; memoryBus?: MemoryBus }): Promise<Publisher> {
  const { backend, source, requested } = setup;
  const { logger } = context;
  if (backend === "memory") return createMemoryPublisher({ source, logger, ...(context.memoryBus ? { bus: context.memoryBus } : {}) });
  const descriptor = await loadBackend(backend, { resolveFrom: import.meta.url });
  if (setup.options === undefined) {
    return new DisabledPublisher(backend, descriptor.disabledReason ?? "the backend is not configured", { source, logger });
  }
  return descriptor.createPublisher(setup.options, { source, logger, requested });
}
