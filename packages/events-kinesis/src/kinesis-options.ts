// Environment → options for the kinesis backend. Region and credentials are not ours to read: the
// AWS SDK takes them from its usual chain (AWS_REGION, AWS_PROFILE, instance/task roles, …).

import { backendOptions, type Env, envInt, envString } from "@kaireon/events-core/backend";
import { z } from "zod";

const MiB = 1024 * 1024;

/** Kinesis hard limits (per PutRecords request and per record, partition keys included). */
export const KINESIS_LIMITS = {
  maxRecordsPerRequest: 500,
  maxRequestBytes: 5 * MiB,
  maxRecordBytes: 1 * MiB,
  maxPartitionKeyLength: 256,
  maxGetRecordsLimit: 10_000,
} as const;

/** One HTTP request (each attempt of the SDK's retries) at most this long, as EVENTBRIDGE_REQUEST_TIMEOUT_MS. */
export const DEFAULT_KINESIS_REQUEST_TIMEOUT_MS = 5_000;

export const kinesisEnvSchema = z
  .object({
    /** Stream name or ARN. Every topic goes to this one stream; consumers filter on `type`. */
    KINESIS_STREAM: envString(),
    /** `none` (default): batches in parallel, no per-key order promise. `strict`: per-key order (see README). */
    KINESIS_ORDERING: z
      .string()
      .optional()
      .transform((v) => (v === undefined || v.trim() === "" ? "none" : v.trim().toLowerCase()))
      .pipe(z.enum(["none", "strict"], { message: "must be none or strict" })),
    /** Overrides the endpoint (moto, LocalStack); also read: AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL. */
    KINESIS_ENDPOINT_URL: envString(),
    AWS_ENDPOINT_URL_KINESIS: envString(),
    AWS_ENDPOINT_URL: envString(),
    KINESIS_MAX_RECORDS_PER_REQUEST: envInt(KINESIS_LIMITS.maxRecordsPerRequest, 1, KINESIS_LIMITS.maxRecordsPerRequest),
    KINESIS_MAX_REQUEST_BYTES: envInt(KINESIS_LIMITS.maxRequestBytes, 1024, KINESIS_LIMITS.maxRequestBytes),
    KINESIS_MAX_RECORD_BYTES: envInt(KINESIS_LIMITS.maxRecordBytes, 256, KINESIS_LIMITS.maxRecordBytes),
    KINESIS_LINGER_MS: envInt(0, 0, 10_000),
    KINESIS_MAX_IN_FLIGHT: envInt(4, 1, 64),
    KINESIS_MAX_QUEUED: envInt(10_000, 1, 1_000_000),
    KINESIS_PUBLISH_TIMEOUT_MS: envInt(30_000, 100, 600_000),
    KINESIS_REQUEST_TIMEOUT_MS: envInt(DEFAULT_KINESIS_REQUEST_TIMEOUT_MS, 100, 120_000),
    KINESIS_MAX_ATTEMPTS: envInt(5, 1, 20),
    KINESIS_RETRY_BASE_MS: envInt(100, 1, 60_000),
    KINESIS_RETRY_MAX_MS: envInt(2_000, 1, 600_000),
    KINESIS_POLL_INTERVAL_MS: envInt(1_000, 50, 60_000),
    KINESIS_READ_LIMIT: envInt(1_000, 1, KINESIS_LIMITS.maxGetRecordsLimit),
  })
  .superRefine((env, ctx) => {
    if (env.KINESIS_STREAM === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["KINESIS_STREAM"],
        message: "is required with EVENT_PUBLISHER=kinesis — set it to the stream name or ARN (e.g. kaireon-events)",
      });
    }
    if (env.KINESIS_MAX_RECORD_BYTES > env.KINESIS_MAX_REQUEST_BYTES) {
      ctx.addIssue({ code: "custom", path: ["KINESIS_MAX_RECORD_BYTES"], message: "must not exceed KINESIS_MAX_REQUEST_BYTES" });
    }
  })
  .transform((env) => ({
    stream: env.KINESIS_STREAM as string,
    ordering: env.KINESIS_ORDERING,
    endpoint: env.KINESIS_ENDPOINT_URL ?? env.AWS_ENDPOINT_URL_KINESIS ?? env.AWS_ENDPOINT_URL,
    maxRecordsPerRequest: env.KINESIS_MAX_RECORDS_PER_REQUEST,
    maxRequestBytes: env.KINESIS_MAX_REQUEST_BYTES,
    maxRecordBytes: env.KINESIS_MAX_RECORD_BYTES,
    lingerMs: env.KINESIS_LINGER_MS,
    maxInFlight: env.KINESIS_MAX_IN_FLIGHT,
    maxQueued: env.KINESIS_MAX_QUEUED,
    publishTimeoutMs: env.KINESIS_PUBLISH_TIMEOUT_MS,
    requestTimeoutMs: env.KINESIS_REQUEST_TIMEOUT_MS,
    maxAttempts: env.KINESIS_MAX_ATTEMPTS,
    retryBaseMs: env.KINESIS_RETRY_BASE_MS,
    retryMaxMs: env.KINESIS_RETRY_MAX_MS,
    pollIntervalMs: env.KINESIS_POLL_INTERVAL_MS,
    readLimit: env.KINESIS_READ_LIMIT,
  }));

export type KinesisOptions = z.output<typeof kinesisEnvSchema>;

const kinesisOptionsBuilder = backendOptions("kinesis", kinesisEnvSchema);

/** Reads the kinesis variables; a missing KINESIS_STREAM or a bad value is a ConfigError naming the variable. */
export function kinesisOptionsFromEnv(env: Env = process.env): KinesisOptions {
  return kinesisOptionsBuilder.fromEnv(env);
}

/** What code passes: the stream, and any option to override (the schema's defaults for the rest). */
export type KinesisConfig = Pick<KinesisOptions, "stream"> & Partial<KinesisOptions>;

/** Options with every default filled in, for code that builds them by hand (tests, scripts). */
export function kinesisOptions(overrides: KinesisConfig): KinesisOptions {
  return kinesisOptionsBuilder.fromCode(overrides, { KINESIS_STREAM: overrides.stream });
}
