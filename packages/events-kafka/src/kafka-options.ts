// KAFKA_* environment → the resolved options the publisher and subscriber take. The env schema is the
// one place the variables are read; KafkaOptions is also what other packages (MSK) build themselves,
// with their own SASL (an OAUTHBEARER provider) and TLS.

import {
  backendOptions,
  type Env,
  envBoolean,
  envInt,
  envList,
  envString,
  type Logger,
  readConfigFile,
} from "@kaireon/events-core/backend";
import { z } from "zod";
import {
  DEFAULT_KAFKA_CLIENT,
  type KafkaClientName,
  type KafkaCompression,
  type KafkaConnection,
  type KafkaSasl,
  kafkaClients,
} from "./kafka-client.js";

export const saslMechanisms = ["plain", "scram-sha-256", "scram-sha-512"] as const;
export const compressions = ["none", "gzip"] as const;

/** The advice after " — " in AUTH_FAILED and CONNECTION_FAILED messages: name your own variables. */
export interface KafkaErrorHints {
  /** Default: `check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD` (backend `kafka`). */
  auth?: string;
  /** Default: `check KAFKA_BROKERS, TLS and the network` (backend `kafka`). */
  connection?: string;
}

export interface KafkaOptions extends KafkaConnection {
  /** Backend id in errors, logs and results; `kafka` unless a package built on this one says otherwise (`msk`). */
  backend?: string;
  /** What errors tell the user to check. Without it a backend other than `kafka` gets advice naming no variable. */
  hints?: KafkaErrorHints;
  /** Prepended to every topic name: `<topicPrefix><topic>`. */
  topicPrefix: string;
  /** Default consumer group of subscriptions. */
  groupId: string;
  /** Most events in one sendBatch call. */
  batchSize: number;
  /** Byte budget of one sendBatch call (stay under the broker's message.max.bytes). */
  maxBatchBytes: number;
  /** How long the first event of a batch waits for company (ms). */
  lingerMs: number;
  /** Every publish settles within this many ms: acked, or rejected with a coded error. */
  publishTimeoutMs: number;
  /** Events waiting for the broker at most; beyond it publish rejects with QUEUE_FULL. */
  maxQueued: number;
  compression: KafkaCompression;
}

const mechanism = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === "") return undefined;
    const v = value.trim().toLowerCase();
    if ((saslMechanisms as readonly string[]).includes(v)) return v as (typeof saslMechanisms)[number];
    ctx.addIssue({ code: "custom", message: `must be one of ${saslMechanisms.join(", ")} (or unset for no SASL)` });
    return z.NEVER;
  });

const compression = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const v = (value ?? "").trim().toLowerCase() || "none";
    if ((compressions as readonly string[]).includes(v)) return v as KafkaCompression;
    ctx.addIssue({ code: "custom", message: `must be one of ${compressions.join(", ")}` });
    return z.NEVER;
  });

/**
 * The schema of KAFKA_CLIENT (and MSK_CLIENT): which client library. Unset is `fallback`, or
 * undefined without one (the caller applies its own default later).
 */
export function kafkaClientVariable(fallback?: KafkaClientName) {
  return z
    .string()
    .optional()
    .transform((value, ctx): KafkaClientName | undefined => {
      const v = (value ?? "").trim().toLowerCase() || fallback;
      if (v === undefined) return undefined;
      if ((kafkaClients as readonly string[]).includes(v)) return v as KafkaClientName;
      ctx.addIssue({ code: "custom", message: `must be one of ${kafkaClients.join(", ")} (or unset)` });
      return z.NEVER;
    });
}

export const kafkaEnvSchema = z
  .object({
    KAFKA_BROKERS: envList({ required: true, hint: "set it to the comma-separated host:port list of your brokers, e.g. localhost:9092" }),
    KAFKA_CLIENT: kafkaClientVariable(DEFAULT_KAFKA_CLIENT),
    KAFKA_CLIENT_ID: envString(),
    KAFKA_TLS_ENABLED: envBoolean(false),
    KAFKA_TLS_CA_FILE: envString(),
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: envString(),
    KAFKA_SASL_PASSWORD: z.string().optional(),
    KAFKA_CONSUMER_GROUP_ID: envString(),
    KAFKA_TOPIC_PREFIX: z.string().optional(),
    KAFKA_BATCH_SIZE: envInt(500, 1, 10_000),
    KAFKA_BATCH_MAX_BYTES: envInt(900_000, 1024, 100_000_000),
    KAFKA_LINGER_MS: envInt(2, 0, 10_000),
    KAFKA_PUBLISH_TIMEOUT_MS: envInt(30_000, 1000, 600_000),
    KAFKA_MAX_QUEUED: envInt(100_000, 1, 10_000_000),
    KAFKA_COMPRESSION: compression,
    KAFKA_CONNECTION_TIMEOUT_MS: envInt(3000, 100, 120_000),
  })
  .superRefine((env, ctx) => {
    // A CA file without TLS would be read by nobody: the connection would silently go unencrypted.
    if (env.KAFKA_TLS_CA_FILE && !env.KAFKA_TLS_ENABLED)
      ctx.addIssue({
        code: "custom",
        path: ["KAFKA_TLS_CA_FILE"],
        message:
          "is set but KAFKA_TLS_ENABLED is not true, so it would be ignored — set KAFKA_TLS_ENABLED=true to use TLS with this CA, or unset KAFKA_TLS_CA_FILE",
      });
    if (env.KAFKA_SASL_MECHANISM === undefined) return;
    const why = `is required when KAFKA_SASL_MECHANISM=${env.KAFKA_SASL_MECHANISM}`;
    if (!env.KAFKA_SASL_USERNAME) ctx.addIssue({ code: "custom", path: ["KAFKA_SASL_USERNAME"], message: why });
    if (!env.KAFKA_SASL_PASSWORD) ctx.addIssue({ code: "custom", path: ["KAFKA_SASL_PASSWORD"], message: why });
  })
  .transform((env): KafkaOptions => {
    const sasl: KafkaSasl | undefined = env.KAFKA_SASL_MECHANISM
      ? { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME as string, password: env.KAFKA_SASL_PASSWORD as string }
      : undefined;
    const options: KafkaOptions = {
      client: env.KAFKA_CLIENT ?? DEFAULT_KAFKA_CLIENT,
      brokers: env.KAFKA_BROKERS,
      clientId: env.KAFKA_CLIENT_ID ?? "kaireon-platform",
      topicPrefix: env.KAFKA_TOPIC_PREFIX ?? "",
      groupId: env.KAFKA_CONSUMER_GROUP_ID ?? "kaireon-consumers",
      batchSize: env.KAFKA_BATCH_SIZE,
      maxBatchBytes: env.KAFKA_BATCH_MAX_BYTES,
      lingerMs: env.KAFKA_LINGER_MS,
      publishTimeoutMs: env.KAFKA_PUBLISH_TIMEOUT_MS,
      maxQueued: env.KAFKA_MAX_QUEUED,
      compression: env.KAFKA_COMPRESSION,
      connectionTimeoutMs: env.KAFKA_CONNECTION_TIMEOUT_MS,
      retryBudgetMs: Math.floor(env.KAFKA_PUBLISH_TIMEOUT_MS / 2),
    };
    if (env.KAFKA_TLS_ENABLED)
      options.ssl = env.KAFKA_TLS_CA_FILE
        ? {
            ca: [
              readConfigFile(env.KAFKA_TLS_CA_FILE, {
                backend: "kafka",
                variable: "KAFKA_TLS_CA_FILE",
                fix: "point it at a PEM file of your CA",
              }),
            ],
          }
        : true;
    if (sasl) options.sasl = sasl;
    return options;
  });

const kafkaOptionsBuilder = backendOptions("kafka", kafkaEnvSchema);

/** Reads the KAFKA_* variables; throws ConfigError naming each bad one (values are never echoed). */
export function kafkaOptionsFromEnv(env: Env = process.env): KafkaOptions {
  return kafkaOptionsBuilder.fromEnv(env);
}

/** Fills the defaults for options built in code: only `brokers` is required. */
/** Options for code that builds them itself: the brokers and any override; every other default is the schema's. */
export function resolveKafkaOptions(partial: Partial<KafkaOptions> & Pick<KafkaOptions, "brokers">): KafkaOptions {
  const options = kafkaOptionsBuilder.fromCode(partial, { KAFKA_BROKERS: partial.brokers.join(",") });
  // Derived, not a default of its own: half the publish bound unless given.
  if (partial.retryBudgetMs === undefined) options.retryBudgetMs = Math.floor(options.publishTimeoutMs / 2);
  return options;
}

const warnedPlainText = new Set<string>();

/**
 * SASL PLAIN sends the password as is: without TLS anyone on the path reads it. Allowed (local
 * brokers, a private network), but said once per process and configuration, not on every connect.
 */
export function warnPlainWithoutTls(options: KafkaOptions, logger: Logger): void {
  if (options.sasl?.mechanism !== "plain" || (options.ssl !== undefined && options.ssl !== false)) return;
  const backend = options.backend ?? "kafka";
  const key = `${backend}|${options.brokers.join(",")}|${options.sasl.username}`;
  if (warnedPlainText.has(key)) return;
  warnedPlainText.add(key);
  logger.warn(
    backend === "kafka"
      ? "[kafka] KAFKA_SASL_MECHANISM=plain without TLS sends the SASL password to the brokers in clear text — set KAFKA_TLS_ENABLED=true (KAFKA_TLS_CA_FILE for a private CA), or use KAFKA_SASL_MECHANISM=scram-sha-512"
      : `[${backend}] SASL PLAIN without TLS sends the SASL password to the brokers in clear text — enable TLS, or use SCRAM`,
    { brokers: options.brokers },
  );
}
