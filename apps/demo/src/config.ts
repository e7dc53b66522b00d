// The demo's own settings, read once from the environment (env → zod → options, like every package).
// The backend's variables are not read here: core's loader reads them for the backend it loads.

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Env } from "@kaireon/events-core";
import { envBoolean, envInt, envString, parseEnv } from "@kaireon/events-core/backend";
import { z } from "zod";

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The shortest DEMO_LIVE_TOKEN accepted: a guessable token would guard nothing. */
export const MIN_LIVE_TOKEN_LENGTH = 16;

/** Loopback addresses only this machine can reach. A name other than `localhost` counts as reachable from elsewhere. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const demoEnvObject = z.object({
  PORT: envInt(3000, 0, 65_535),
  /**
   * Where the server listens (default 127.0.0.1: this machine only). Not the generic HOST, which
   * shells and platforms set for their own purposes and would open the demo to the network unasked.
   */
  DEMO_HOST: envString().transform((v) => v ?? "127.0.0.1"),
  /**
   * When set, /live, /live/stream and the full /health need it (Authorization: Bearer, or ?token= for
   * the browser's EventSource). Required when DEMO_HOST is not a loopback address.
   */
  DEMO_LIVE_TOKEN: envString().refine((v) => v === undefined || v.length >= MIN_LIVE_TOKEN_LENGTH, {
    message: `must be at least ${MIN_LIVE_TOKEN_LENGTH} characters (e.g. the output of \`openssl rand -hex 32\`)`,
  }),
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

export const demoEnvSchema = demoEnvObject.superRefine((options, ctx) => {
  // Anyone who reaches the port would read every event on the live stream: beyond loopback, a token.
  if (!isLoopbackHost(options.DEMO_HOST) && options.DEMO_LIVE_TOKEN === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["DEMO_LIVE_TOKEN"],
      message:
        `is required when DEMO_HOST=${options.DEMO_HOST} (not a loopback address: anyone who reaches the port could read every event) — ` +
        `set DEMO_LIVE_TOKEN to a secret of ${MIN_LIVE_TOKEN_LENGTH}+ characters (e.g. \`openssl rand -hex 32\`), or DEMO_HOST=127.0.0.1`,
    });
  }
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
