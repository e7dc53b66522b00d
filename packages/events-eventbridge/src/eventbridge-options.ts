// EventBridge configuration: environment → zod → options, one path. The AWS SDK's own variables
// (AWS_REGION, AWS_ENDPOINT_URL, credentials) keep their usual meaning; credentials are never read
// here — the SDK's default chain finds them, so nothing secret passes through this file.

import { backendOptions, ConfigError, type Env, envInt, envString } from "@kaireon/events-core/backend";
import { z } from "zod";

/** AWS raised the PutEvents limit from 256 KB to 1 MB in 2026; 256 KB stays the default so older accounts and regions accept every entry. */
export const DEFAULT_MAX_ENTRY_BYTES = 256 * 1024;
export const MAX_ENTRY_BYTES_LIMIT = 1024 * 1024;
/** One HTTP request (EventBridge or SQS) at most this long; an SQS long poll gets its wait on top. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[/.\-_A-Za-z0-9]{1,256}$/;

function endpointUrl() {
  return envString().refine((value) => value === undefined || /^https?:\/\/[^\s]+$/.test(value), {
    message: "must be an http(s) URL, e.g. http://127.0.0.1:5000 for a local emulator",
  });
}

/** Whether a Source is reserved by AWS (`aws.` prefix): PutEvents would refuse every entry. */
export function isReservedSource(source: string): boolean {
  return source.toLowerCase().startsWith("aws.");
}

export const eventBridgeEnvSchema = z
  .object({
    EVENTBRIDGE_BUS: envString().refine((v) => v === undefined || BUS_NAME.test(v) || BUS_ARN.test(v), {
      message: "must be an event bus name (letters, digits, . - _ /) or its ARN arn:aws:events:<region>:<account>:event-bus/<name>",
    }),
    EVENTBRIDGE_SOURCE: envString()
      .refine((v) => v === undefined || !isReservedSource(v), {
        message: "must not start with `aws.` (reserved for AWS services) — use your service name, e.g. kaireon-platform",
      })
      .refine((v) => v === undefined || v.length <= 256, { message: "must be at most 256 characters" }),
    // Checked only when EVENTBRIDGE_SOURCE is unset, because then the envelope source becomes the Source.
    EVENT_SOURCE: envString(),
    EVENTBRIDGE_MAX_ENTRY_BYTES: envInt(DEFAULT_MAX_ENTRY_BYTES, 1024, MAX_ENTRY_BYTES_LIMIT),
    EVENTBRIDGE_MAX_ATTEMPTS: envInt(4, 1, 10),
    EVENTBRIDGE_PUBLISH_TIMEOUT_MS: envInt(10_000, 100, 300_000),
    EVENTBRIDGE_REQUEST_TIMEOUT_MS: envInt(DEFAULT_REQUEST_TIMEOUT_MS, 100, 120_000),
    EVENTBRIDGE_MAX_IN_FLIGHT: envInt(4, 1, 64),
    EVENTBRIDGE_LINGER_MS: envInt(0, 0, 1_000),
    EVENTBRIDGE_MAX_QUEUED: envInt(10_000, 1, 1_000_000),
    EVENTBRIDGE_ENDPOINT_URL: endpointUrl(),
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpointUrl(),
    AWS_ENDPOINT_URL_SQS: endpointUrl(),
    AWS_ENDPOINT_URL: endpointUrl(),
    AWS_REGION: envString(),
    AWS_DEFAULT_REGION: envString(),
    EVENTBRIDGE_QUEUE_URL: envString().refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), {
      message: "must be the queue URL SQS gives (https://sqs.<region>.amazonaws.com/<account>/<name>)",
    }),
    EVENTBRIDGE_SQS_WAIT_SECONDS: envInt(20, 0, 20),
    EVENTBRIDGE_SQS_MALFORMED: envString().refine((v) => v === undefined || v === "leave" || v === "delete", {
      message: "must be leave (default: the queue's redrive policy moves it to a DLQ) or delete",
    }),
  })
  .superRefine((env, ctx) => {
    if (env.EVENTBRIDGE_SOURCE === undefined && env.EVENT_SOURCE !== undefined && isReservedSource(env.EVENT_SOURCE)) {
      ctx.addIssue({
        code: "custom",
        path: ["EVENTBRIDGE_SOURCE"],
        message: "is unset and EVENT_SOURCE starts with `aws.` (reserved for AWS services) — set EVENTBRIDGE_SOURCE to your service name",
      });
    }
  })
  .transform((env) => ({
    /** Bus name or ARN. */
    bus: env.EVENTBRIDGE_BUS ?? "default",
    /** The PutEvents entry's Source (EVENTBRIDGE_SOURCE); undefined = each event's CloudEvents `source`. */
    entrySource: env.EVENTBRIDGE_SOURCE,
    maxEntryBytes: env.EVENTBRIDGE_MAX_ENTRY_BYTES,
    /** PutEvents attempts per entry, the first included (the SDK's own retries are off). */
    maxAttempts: env.EVENTBRIDGE_MAX_ATTEMPTS,
    publishTimeoutMs: env.EVENTBRIDGE_PUBLISH_TIMEOUT_MS,
    requestTimeoutMs: env.EVENTBRIDGE_REQUEST_TIMEOUT_MS,
    maxInFlight: env.EVENTBRIDGE_MAX_IN_FLIGHT,
    lingerMs: env.EVENTBRIDGE_LINGER_MS,
    maxQueued: env.EVENTBRIDGE_MAX_QUEUED,
    /** undefined = the SDK's default for the region. */
    endpoint: env.EVENTBRIDGE_ENDPOINT_URL ?? env.AWS_ENDPOINT_URL_EVENTBRIDGE ?? env.AWS_ENDPOINT_URL,
    sqsEndpoint: env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL,
    /** undefined = the SDK resolves it (shared config file, instance metadata). */
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    queueUrl: env.EVENTBRIDGE_QUEUE_URL,
    waitTimeSeconds: env.EVENTBRIDGE_SQS_WAIT_SECONDS,
    malformed: (env.EVENTBRIDGE_SQS_MALFORMED ?? "leave") as "leave" | "delete",
  }));

export type EventBridgeOptions = z.infer<typeof eventBridgeEnvSchema>;

/** What code passes: any option to override (the schema's defaults for the rest). */
export type EventBridgeConfig = Partial<EventBridgeOptions> & {
  /** @deprecated the PutEvents Source is `entrySource`; `source` means the CloudEvents source (the publisher's context). */
  source?: string | undefined;
};

const eventBridgeOptionsBuilder = backendOptions("eventbridge", eventBridgeEnvSchema);

/** Reads the EventBridge variables from `env`; throws ConfigError naming each bad variable. */
export function eventBridgeOptionsFromEnv(env: Env = process.env): EventBridgeOptions {
  return eventBridgeOptionsBuilder.fromEnv(env);
}

/** Options with defaults, for code that builds them by hand (tests, scripts). An undefined override keeps the default. */
export function eventBridgeOptions(overrides: EventBridgeConfig = {}, env: Env = {}): EventBridgeOptions {
  const { source, ...given } = overrides;
  const options = eventBridgeOptionsBuilder.fromCode({ ...given, entrySource: given.entrySource ?? source }, env);
  if (options.entrySource !== undefined && isReservedSource(options.entrySource)) {
    throw new ConfigError({
      backend: "eventbridge",
      message:
        "[eventbridge] entrySource must not start with `aws.` (reserved for AWS services) — use your service name, e.g. kaireon-platform",
      details: { variable: "EVENTBRIDGE_SOURCE" },
    });
  }
  return options;
}
