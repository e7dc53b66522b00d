// Relay settings from the environment (all optional), for apps that wire the relay from env like
// EVENT_PUBLISHER. Code options passed to createOutboxRelay win over these.

import { type Env, envInt, parseEnv } from "@kaireon/events-core/backend";
import { z } from "zod";

export const outboxEnvSchema = z.object({
  OUTBOX_BATCH_SIZE: envInt(100, 1, 10_000),
  OUTBOX_MAX_ATTEMPTS: envInt(25, 1, 1_000),
  OUTBOX_POLL_INTERVAL_MS: envInt(1000, 10, 3_600_000),
  OUTBOX_LINGER_MS: envInt(0, 0, 10_000),
  OUTBOX_RETRY_BASE_MS: envInt(500, 1, 3_600_000),
  OUTBOX_RETRY_MAX_MS: envInt(300_000, 1, 86_400_000),
  /** 0 keeps sent rows forever. */
  OUTBOX_RETENTION_HOURS: envInt(24, 0, 24 * 366),
});

export type OutboxEnv = z.infer<typeof outboxEnvSchema>;

/** Reads OUTBOX_* into relay options; throws ConfigError naming the bad variable. */
export function readOutboxConfig(env: Env = process.env) {
  const e = parseEnv("outbox", outboxEnvSchema, env);
  return {
    batchSize: e.OUTBOX_BATCH_SIZE,
    maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
    pollIntervalMs: e.OUTBOX_POLL_INTERVAL_MS,
    lingerMs: e.OUTBOX_LINGER_MS,
    backoff: { baseMs: e.OUTBOX_RETRY_BASE_MS, maxMs: Math.max(e.OUTBOX_RETRY_BASE_MS, e.OUTBOX_RETRY_MAX_MS) },
    retention: e.OUTBOX_RETENTION_HOURS === 0 ? (false as const) : { sentMs: e.OUTBOX_RETENTION_HOURS * 3_600_000 },
  };
}
