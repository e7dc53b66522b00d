// MSK's client: MSK is Kafka, so its transport is @kaireon/events-kafka's (publisher, subscriber,
// batching, ordering and replay are reused as they are). This file turns MskOptions into the
// resolved Kafka options with MSK's auth:
// SASL/OAUTHBEARER with a cached IAM token, or SASL/SCRAM-SHA-512, both over TLS. The Kafka package's
// errors name the MSK variables and the likely fix through its `hints`; the token provider's own coded
// errors pass through it unchanged.

import { EventsError, type Logger, readConfigFile } from "@kaireon/events-core/backend";
import { type KafkaErrorHints, type KafkaOptions, resolveKafkaOptions } from "@kaireon/events-kafka";
import { MskIamTokenProvider, type MskIamTokenProviderOptions } from "./msk-iam-token.js";
import { DEFAULT_MSK_CLIENT, type MskOptions } from "./msk-options.js";

export const MSK_CLIENT_ID = "kaireon-platform";

/** What MSK's publisher and subscriber take besides their options (with the logger): the IAM token's source. */
export interface MskAuthContext {
  logger?: Logger;
  /** IAM mode: the token provider to use (default: one per publisher/subscriber, from the options). */
  tokenProvider?: MskIamTokenProvider;
  /** IAM mode: options of the default token provider (tests inject a clock or a generator here). */
  token?: Omit<MskIamTokenProviderOptions, "region" | "roleArn">;
}

/** The Kafka options MSK's publisher and subscriber run with, and the IAM token provider (IAM mode). */
export function toKafkaOptions(
  options: MskOptions,
  context: MskAuthContext = {},
): { kafka: KafkaOptions; tokenProvider?: MskIamTokenProvider } {
  const tls = options.tls.enabled
    ? options.tls.caFile
      ? {
          ca: [
            readConfigFile(options.tls.caFile, {
              backend: "msk",
              variable: "MSK_TLS_CA_FILE",
              fix: "point it at a PEM file of your CA, or unset it (MSK's certificates chain to public CAs)",
            }),
          ],
        }
      : true
    : undefined;
  const base = {
    clientId: MSK_CLIENT_ID,
    // Options built in code without `client` get MSK's default too, not the Kafka package's.
    client: options.client ?? DEFAULT_MSK_CLIENT,
    ...options.kafka,
    backend: "msk",
    hints: mskErrorHints(options),
    brokers: options.brokers,
    topicPrefix: options.topicPrefix,
    groupId: options.consumerGroupId,
    ...(tls === undefined ? {} : { ssl: tls }),
  };
  if (options.auth.mode === "sasl_scram") {
    const { username, password } = options.auth;
    return { kafka: resolveKafkaOptions({ ...base, sasl: { mechanism: "scram-sha-512", username, password } }) };
  }
  const tokenProvider =
    context.tokenProvider ??
    new MskIamTokenProvider({
      ...(context.logger ? { logger: context.logger } : {}),
      ...context.token,
      region: options.region,
      ...(options.auth.roleArn ? { roleArn: options.auth.roleArn } : {}),
    });
  return {
    kafka: resolveKafkaOptions({ ...base, sasl: { mechanism: "oauthbearer", oauthBearerProvider: tokenProvider.oauthBearerProvider } }),
    tokenProvider,
  };
}

/** What an MSK auth or connection failure tells the user to check, per mode. Never contains a secret. */
export function mskErrorHints(options: MskOptions): Required<KafkaErrorHints> {
  const tls = options.tls.enabled ? "TLS" : "MSK_TLS_ENABLED";
  if (options.auth.mode === "iam_role") {
    const who = options.auth.roleArn ? "the role MSK_ROLE_ARN" : "the credentials of the default chain";
    return {
      auth: `the broker refused IAM authentication: check that ${who} may kafka-cluster:Connect (and the topic/group actions) on this cluster, that MSK_REGION is the cluster's region, and that MSK_BROKERS are the IAM brokers (port 9098)`,
      connection: `check MSK_BROKERS (the IAM brokers, port 9098), ${tls}, and that the cluster's security group lets this host in`,
    };
  }
  return {
    auth: "check MSK_SASL_USERNAME and MSK_SASL_PASSWORD, that their AmazonMSK_ secret is associated with the cluster, and that MSK_BROKERS are the SCRAM brokers (port 9096)",
    connection: `check MSK_BROKERS (the SCRAM brokers, port 9096), ${tls}, and that the cluster's security group lets this host in`,
  };
}

/**
 * A token the brokers refused is not offered again: the next authentication signs a new one. The
 * broker's refusal is the Kafka layer's AUTH_FAILED for OAUTHBEARER; the provider's own failures
 * (signing, STS) carry no mechanism and leave nothing cached to drop.
 */
export function forgetRefusedToken(error: unknown, provider: MskIamTokenProvider | undefined): void {
  if (provider && EventsError.isInstance(error) && error.code === "AUTH_FAILED" && error.details?.mechanism === "oauthbearer")
    provider.invalidate();
}
