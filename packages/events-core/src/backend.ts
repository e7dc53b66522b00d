// The one thing a backend package exports for the loader: `export const backend = defineBackend({...})`.

import type { Env } from "./env.js";
import type { Logger, Publisher, Subscriber } from "./ports.js";

export interface BackendContext {
  /** EVENT_SOURCE, default `kaireon-platform`. */
  source: string;
  logger: Logger;
  /** What EVENT_PUBLISHER said, e.g. `redpanda` for the kafka backend. */
  requested: string;
}

export interface BackendDescriptor<O = unknown> {
  /** Backend id, e.g. `kafka`. */
  id: string;
  /**
   * Reads this backend's variables. Throws ConfigError naming the variable; returns `undefined` when
   * the backend is deliberately not configured and the stream should run disabled (redis without REDIS_URL).
   */
  fromEnv(env: Env): O | undefined;
  /** Explains, for the one log line of a disabled stream, why it is off and how to turn it on. */
  disabledReason?: string;
  createPublisher(options: O, context: BackendContext): Publisher;
  createSubscriber(options: O, context: BackendContext): Subscriber;
}

export function defineBackend<O>(descriptor: BackendDescriptor<O>): BackendDescriptor<O> {
  return descriptor;
}

/** The shape of a backend package's module namespace. */
export interface BackendModule {
  backend: BackendDescriptor<any>;
}
