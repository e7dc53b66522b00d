// The demo's own settings, read once from the environment (env → zod → options, like every package).
// The backend's variables are not read here: core's loader reads them for the backend it loads.

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Env, envBoolean, envInt, envString, parseEnv } from "@kaireon/events-core";
import { z } from "zod";

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export const demoEnvSchema = z.object({
  PORT: envInt(3000, 0, 65_535),
  HOST: envString().transform((v) => v ?? "127.0.0.1"),
  /** Where the embedded SQLite file lives (created on first start). */
  DEMO_DATA_DIR: envString().transform((v) => resolve(v ?? join(appDir, ".data"))),
  /** PostgreSQL instead of the embedded SQLite. */
  DATABASE_URL: envString(),
  /**
   * `thread` (default): the relay runs on a worker thread of the server (on the server's own event
   * loop for the in-memory backend, whose bus lives in that thread); `inline`: on the server's event
   * loop; `separate`: the server only enqueues, run `pnpm --filter @kaireon/demo relay` beside it.
   */
  DEMO_RELAY: z
    .enum(["thread", "inline", "separate"])
    .optional()
    .transform((v) => v ?? "thread"),
  /** `false` stores rows without events (the benchmark's baseline). */
  DEMO_EVENTS: envBoolean(true),
  /** Print one line per event on stdout. */
  DEMO_TAIL: envBoolean(true),
  /** The live view (terminal tail + web page) subscribes to the stream. */
  DEMO_LIVE_VIEW: envBoolean(true),
  /** Request bodies above this many bytes get a 413. */
  DEMO_BODY_LIMIT: envInt(64 * 1024, 256, 10 * 1024 * 1024),
});

export type DemoOptions = z.infer<typeof demoEnvSchema>;

export function readDemoOptions(env: Env): DemoOptions {
  return parseEnv("demo", demoEnvSchema, env);
}

/**
 * The environment the backend loader sees. Without EVENT_PUBLISHER the demo picks the backend whose
 * address is set (REDIS_URL → redis, KAFKA_BROKERS → kafka), and with none the embedded in-memory
 * backend — core's own default (redis) would run the stream disabled, which shows nothing.
 */
export function backendEnv(env: Env): Env {
  if (env.EVENT_PUBLISHER?.trim()) return env;
  const inferred = env.REDIS_URL?.trim() ? "redis" : env.KAFKA_BROKERS?.trim() ? "kafka" : "memory";
  return { ...env, EVENT_PUBLISHER: inferred };
}
