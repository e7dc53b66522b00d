// The redis backend's configuration: environment → zod → options, through core's parseEnv. Only
// REDIS_URL comes from the spec; the rest are this package's, documented in its README.

import { backendOptions, ConfigError, type Env, envInt, envString } from "@kaireon/events-core/backend";
import { z } from "zod";

export const redisModes = ["pubsub", "streams"] as const;
export type RedisMode = (typeof redisModes)[number];

export const redisSendModes = ["script", "pipeline"] as const;
export type RedisSendMode = (typeof redisSendModes)[number];

/** Where the one log line of a disabled stream says how to turn it on. */
export const redisDisabledReason = "REDIS_URL is not set — set it (e.g. redis://127.0.0.1:6379, or rediss:// for TLS) to publish events";

function redisUrl() {
  return envString().superRefine((value, ctx) => {
    if (value === undefined) return;
    let protocol: string;
    try {
      protocol = new URL(value).protocol;
    } catch {
      // The value may hold a password: never echo it.
      ctx.addIssue({ code: "custom", message: "is not a URL — use redis://[user:password@]host:port[/db] or rediss:// for TLS" });
      return;
    }
    if (protocol !== "redis:" && protocol !== "rediss:") {
      ctx.addIssue({ code: "custom", message: `must start with redis:// or rediss:// (TLS), not ${protocol}//` });
    }
  });
}

export const redisEnvSchema = z
  .object({
    REDIS_URL: redisUrl(),
    REDIS_MODE: z
      .string()
      .optional()
      .transform((v) => v?.trim().toLowerCase() || "pubsub")
      .pipe(z.enum(redisModes, { message: "must be pubsub (default, fire-and-forget) or streams (durable, replayable)" })),
    REDIS_SEND_MODE: z
      .string()
      .optional()
      .transform((v) => v?.trim().toLowerCase() || "script")
      .pipe(
        z.enum(redisSendModes, {
          message:
            "must be script (default: each batch as a few EVALSHA calls, falling back to pipelines where scripting is refused) or pipeline (plain PUBLISH/XADD pipelines)",
        }),
      ),
    REDIS_SCRIPT_SIZE: envInt(100, 1, 10_000),
    REDIS_CHANNEL_PREFIX: z
      .string()
      .optional()
      .transform((v) => v ?? ""),
    REDIS_STREAM_MAXLEN: envInt(100_000, 1),
    REDIS_PUBLISH_TIMEOUT_MS: envInt(5_000, 1, 600_000),
    REDIS_MAX_PENDING: envInt(10_000, 1, 10_000_000),
    REDIS_PIPELINE_SIZE: envInt(1_000, 1, 100_000),
    REDIS_CONNECT_TIMEOUT_MS: envInt(10_000, 1, 600_000),
    REDIS_CONSUMER_GROUP: envString(),
    REDIS_CONSUMER_NAME: envString(),
    REDIS_CLAIM_IDLE_MS: envInt(60_000, 1, 86_400_000),
  })
  .transform((env) => ({
    /** REDIS_URL; may carry a password, so it is only ever printed through redactUrl. */
    url: env.REDIS_URL as string,
    mode: env.REDIS_MODE as RedisMode,
    /** How a batch goes out: script calls (default; pipelines where the server refuses scripting) or plain pipelines. */
    sendMode: env.REDIS_SEND_MODE as RedisSendMode,
    /** Most messages in one script call; a pipeline of REDIS_PIPELINE_SIZE carries several calls. */
    scriptSize: env.REDIS_SCRIPT_SIZE,
    /** Prepended to the topic to make the channel (pub/sub) or stream key (streams). */
    prefix: env.REDIS_CHANNEL_PREFIX,
    /** XADD MAXLEN ~ (approximate trim: Redis keeps at least this many entries per stream). */
    streamMaxLen: env.REDIS_STREAM_MAXLEN,
    /** Every publish settles within this bound. Also the per-command timeout of the publisher. */
    publishTimeoutMs: env.REDIS_PUBLISH_TIMEOUT_MS,
    /** Events waiting for Redis at most; beyond it a publish rejects with QUEUE_FULL. */
    maxPending: env.REDIS_MAX_PENDING,
    /** Most messages in one pipeline (one round trip). */
    pipelineSize: env.REDIS_PIPELINE_SIZE,
    connectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_MS,
    /** Streams mode: the consumer group when subscribe() is given none. */
    consumerGroup: env.REDIS_CONSUMER_GROUP ?? "kaireon-consumers",
    /** Streams mode: this process's consumer name; default host-pid-random. */
    consumerName: env.REDIS_CONSUMER_NAME,
    /** Streams mode: entries pending this long on another (dead) consumer are claimed with XAUTOCLAIM. */
    claimIdleMs: env.REDIS_CLAIM_IDLE_MS,
  }));

export type RedisOptions = z.infer<typeof redisEnvSchema>;

const redisOptionsBuilder = backendOptions("redis", redisEnvSchema);

/** Options from the environment; `undefined` when REDIS_URL is unset (the stream runs disabled). */
export function redisOptionsFromEnv(env: Env): RedisOptions | undefined {
  if (!env.REDIS_URL || env.REDIS_URL.trim() === "") return undefined;
  return redisOptionsBuilder.fromEnv(env);
}

function urlRequired(): ConfigError {
  return new ConfigError({ backend: "redis", message: `[redis] ${redisDisabledReason}`, details: { variable: "REDIS_URL" } });
}

/** Options from the environment with REDIS_URL required (a subscriber, a script). */
export function parseRedisEnv(env: Env): RedisOptions {
  const options = redisOptionsFromEnv(env);
  if (!options) throw urlRequired();
  return options;
}

/** What code that configures the backend itself passes: a URL, and any option to override. */
export type RedisConfig = Pick<RedisOptions, "url"> & Partial<RedisOptions>;

/** Options for code that configures the backend itself: REDIS_URL's value plus any overrides (the schema's defaults for the rest). */
export function redisOptions(url: string, overrides: Partial<RedisOptions> = {}): RedisOptions {
  if (!url || url.trim() === "") throw urlRequired();
  return redisOptionsBuilder.fromCode(overrides, { REDIS_URL: url });
}

/** Fills in the defaults (the same as the environment's) around what was given. */
export function resolveRedisConfig({ url, ...overrides }: RedisConfig): RedisOptions {
  return redisOptions(url, overrides);
}
