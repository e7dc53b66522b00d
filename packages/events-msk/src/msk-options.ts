// MSK's variables (the spec's "MSK backend" table) → options. One schema, parsed with core's parseEnv,
// so every error names the variable and says the fix, and never echoes a value (passwords).

import { backendOptions, type Env, envBoolean, envList, envString } from "@kaireon/events-core/backend";
import { type KafkaClientName, type KafkaOptions, kafkaClientVariable } from "@kaireon/events-kafka";
import { z } from "zod";

export const mskAuthModes = ["iam_role", "sasl_scram"] as const;
export type MskAuthMode = (typeof mskAuthModes)[number];

export const DEFAULT_MSK_REGION = "us-east-1";
export const DEFAULT_MSK_CLIENT: KafkaClientName = "kafkajs";
export const DEFAULT_MSK_CONSUMER_GROUP_ID = "kaireon-consumers";

// Partition `aws`, `aws-cn`, `aws-us-gov`…; the role name may carry a path (role/teams/publisher).
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

export const mskEnvSchema = z
  .object({
    // Its own variable, not KAFKA_CLIENT: MSK reads only MSK_*, and an app on both backends can switch
    // each alone. kafkajs until IAM sessions on @platformatic/kafka are proven against a broker that
    // validates MSK's IAM tokens (README: "The Kafka client").
    MSK_CLIENT: kafkaClientVariable(),
    MSK_BROKERS: envList({
      required: true,
      hint: "set it to the cluster's bootstrap brokers, e.g. b-1.mycluster.kafka.us-east-1.amazonaws.com:9098 (IAM) or :9096 (SCRAM)",
    }),
    MSK_REGION: envString().refine((v) => v === undefined || REGION.test(v), {
      message: "must be an AWS region such as us-east-1 (the cluster's region)",
    }),
    MSK_AUTH_MODE: envString().transform((value, ctx) => {
      const mode = (value ?? "iam_role").toLowerCase();
      if ((mskAuthModes as readonly string[]).includes(mode)) return mode as MskAuthMode;
      ctx.addIssue({ code: "custom", message: `must be one of: ${mskAuthModes.join(", ")} (default iam_role)` });
      return z.NEVER;
    }),
    MSK_ROLE_ARN: envString().refine((v) => v === undefined || ROLE_ARN.test(v), {
      message:
        "must be an IAM role ARN such as arn:aws:iam::123456789012:role/kaireon-events (or unset to use the default credential chain)",
    }),
    MSK_SASL_USERNAME: envString(),
    MSK_SASL_PASSWORD: z.string().optional(),
    MSK_CONSUMER_GROUP_ID: envString(),
    MSK_TOPIC_PREFIX: z.string().optional(),
    // Not in the spec's table: MSK only speaks TLS on its IAM (9098) and SCRAM (9096) ports. These two
    // exist for local brokers (tests, a SASL_PLAINTEXT Kafka), never for a real cluster.
    MSK_TLS_ENABLED: envBoolean(true),
    MSK_TLS_CA_FILE: envString(),
  })
  .superRefine(
    (env, ctx) => {
      if (env.MSK_AUTH_MODE === "sasl_scram") {
        if (!env.MSK_SASL_USERNAME)
          ctx.addIssue({
            code: "custom",
            path: ["MSK_SASL_USERNAME"],
            message: "is required when MSK_AUTH_MODE=sasl_scram — set it to the user of the AmazonMSK_ secret associated with the cluster",
          });
        if (!env.MSK_SASL_PASSWORD)
          ctx.addIssue({
            code: "custom",
            path: ["MSK_SASL_PASSWORD"],
            message: "is required when MSK_AUTH_MODE=sasl_scram — set it to the password of that secret",
          });
      }
      if (env.MSK_AUTH_MODE === "iam_role" && env.MSK_TLS_ENABLED === false)
        ctx.addIssue({
          code: "custom",
          path: ["MSK_TLS_ENABLED"],
          message:
            "cannot be false with MSK_AUTH_MODE=iam_role — IAM auth sends a bearer token and MSK accepts it only over TLS (port 9098)",
        });
      if (env.MSK_TLS_CA_FILE && env.MSK_TLS_ENABLED === false)
        ctx.addIssue({
          code: "custom",
          path: ["MSK_TLS_CA_FILE"],
          message:
            "is set but MSK_TLS_ENABLED=false, so it would be ignored — set MSK_TLS_ENABLED=true to use TLS with this CA, or unset MSK_TLS_CA_FILE",
        });
      // Run even when another variable failed, so one run of the app names every problem.
    },
    { when: () => true },
  )
  .transform((env) => ({
    brokers: env.MSK_BROKERS,
    region: env.MSK_REGION ?? DEFAULT_MSK_REGION,
    auth:
      env.MSK_AUTH_MODE === "sasl_scram"
        ? { mode: "sasl_scram" as const, username: env.MSK_SASL_USERNAME as string, password: env.MSK_SASL_PASSWORD as string }
        : { mode: "iam_role" as const, ...(env.MSK_ROLE_ARN ? { roleArn: env.MSK_ROLE_ARN } : {}) },
    consumerGroupId: env.MSK_CONSUMER_GROUP_ID ?? DEFAULT_MSK_CONSUMER_GROUP_ID,
    topicPrefix: env.MSK_TOPIC_PREFIX?.trim() ?? "",
    tls: { enabled: env.MSK_TLS_ENABLED, ...(env.MSK_TLS_CA_FILE ? { caFile: env.MSK_TLS_CA_FILE } : {}) },
    // Only when set: unset, toKafkaOptions applies DEFAULT_MSK_CLIENT (also to options built in code).
    ...((env.MSK_CLIENT ? { client: env.MSK_CLIENT } : {}) as { client?: KafkaClientName }),
  }));

/** The Kafka options MSK leaves to code (batching, timeouts); brokers, auth, TLS and error hints come from the MSK options. */
export type MskKafkaTuning = Partial<Omit<KafkaOptions, "brokers" | "sasl" | "ssl" | "backend" | "hints">>;

export type MskOptions = z.output<typeof mskEnvSchema> & {
  /** Kafka's batching and timeouts for this publisher/subscriber; unset, the Kafka package's defaults. */
  kafka?: MskKafkaTuning;
};

const mskOptionsBuilder = backendOptions("msk", mskEnvSchema);

/** Reads and checks the MSK variables; throws a ConfigError naming each bad one. */
export function readMskOptions(env: Env): MskOptions {
  return mskOptionsBuilder.fromEnv(env);
}

/** Options for code that builds them itself: the brokers and any override; every other default is the schema's. */
export function mskOptions(given: Partial<MskOptions> & Pick<MskOptions, "brokers">): MskOptions {
  return mskOptionsBuilder.fromCode(given, { MSK_BROKERS: given.brokers.join(",") });
}
