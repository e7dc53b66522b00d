// A backend's options, both ways, from its one env schema: from the environment (the loader) and
// from code (an application or a test that builds the backend itself). The schema is the single
// source of every default: code gets them by parsing the few variables that have none (REDIS_URL,
// KINESIS_STREAM), then lays what it gave over them. A backend never writes a default twice.

import type { z } from "zod";
import { type Env, parseEnv } from "./env.js";
import type { Logger } from "./ports.js";

export interface BackendOptions<O> {
  /** The options the variables in `env` say; ConfigError naming each bad one. */
  fromEnv(env: Env): O;
  /**
   * The schema's defaults (parsed from `env`: the variables without a default, or none), then each
   * option `given` defines. An option given as `undefined` keeps its default.
   */
  fromCode(given: Partial<O>, env?: Env): O;
}

/** The two ways of building `backend`'s options from one schema. */
export function backendOptions<S extends z.ZodType<object>>(backend: string, schema: S): BackendOptions<z.output<S>> {
  type O = z.output<S>;
  return {
    fromEnv: (env) => parseEnv(backend, schema, env),
    fromCode: (given, env = {}) => {
      const options = { ...parseEnv(backend, schema, env) } as Record<string, unknown>;
      for (const [key, value] of Object.entries(given)) if (value !== undefined) options[key] = value;
      return options as O;
    },
  };
}

/**
 * What every backend's publisher takes besides its options — `new XPublisher(options, context)`.
 * The loader passes its BackendContext; code passes what it needs.
 */
export interface PublisherContext {
  /** The CloudEvents `source` of events publish() builds (EVENT_SOURCE through the loader). */
  source?: string;
  logger?: Logger;
}

/** What every backend's subscriber takes besides its options — `new XSubscriber(options, context)`. */
export interface SubscriberContext {
  logger?: Logger;
}
