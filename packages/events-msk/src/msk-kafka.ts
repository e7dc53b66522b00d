// MSK is Kafka: this file turns MskOptions into the resolved options of @kaireon/events-kafka (its
// publisher, subscriber, batching, ordering and replay are reused as they are) with MSK's auth:
// SASL/OAUTHBEARER with a cached IAM token, or SASL/SCRAM-SHA-512, both over TLS. It also rewrites the
// Kafka package's auth errors so they name the MSK variables and the likely fix.

import { readFileSync } from "node:fs";
import { ConfigError, ConnectionError, EventsError, type Logger } from "@kaireon/events-core";
import { type KafkaOptions, KafkaPublisher, type KafkaPublisherDeps, KafkaSubscriber, resolveKafkaOptions } from "@kaireon/events-kafka";
import { MskIamTokenProvider, type MskIamTokenProviderOptions } from "./msk-iam-token.js";
import type { MskOptions } from "./msk-options.js";

export const MSK_CLIENT_ID = "kaireon-platform";

export interface MskKafkaDeps {
  logger?: Logger;
  /** IAM mode: the token provider to use (default: one per publisher/subscriber, from the options). */
  tokenProvider?: MskIamTokenProvider;
  /** IAM mode: options of the default token provider (tests inject a clock or a generator here). */
  token?: Omit<MskIamTokenProviderOptions, "region" | "roleArn">;
  /** Extra resolved Kafka options (batching, timeouts); brokers, auth and TLS come from MskOptions. */
  kafka?: Partial<Omit<KafkaOptions, "brokers" | "sasl" | "ssl" | "backend">>;
}

/** The Kafka options MSK's publisher and subscriber run with, and the IAM token provider (IAM mode). */
export function toKafkaOptions(options: MskOptions, deps: MskKafkaDeps = {}): { kafka: KafkaOptions; tokenProvider?: MskIamTokenProvider } {
  const tls = options.tls.enabled ? (options.tls.caFile ? { ca: [readCa(options.tls.caFile)] } : true) : undefined;
  const base = {
    clientId: MSK_CLIENT_ID,
    ...deps.kafka,
    backend: "msk",
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
    deps.tokenProvider ??
    new MskIamTokenProvider({
      ...(deps.logger ? { logger: deps.logger } : {}),
      ...deps.token,
      region: options.region,
      ...(options.auth.roleArn ? { roleArn: options.auth.roleArn } : {}),
    });
  return {
    kafka: resolveKafkaOptions({ ...base, sasl: { mechanism: "oauthbearer", oauthBearerProvider: tokenProvider.oauthBearerProvider } }),
    tokenProvider,
  };
}

function readCa(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError({
      backend: "msk",
      message: `[msk] MSK_TLS_CA_FILE: cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"}) — point it at a PEM file of your CA, or unset it (MSK's certificates chain to public CAs)`,
      details: { variable: "MSK_TLS_CA_FILE" },
      cause,
    });
  }
}

/** The first error in the cause chain that our token provider raised (a signer/STS failure). */
function tokenFailure(error: unknown): EventsError | undefined {
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    if (EventsError.isInstance(e) && e.code === "AUTH_FAILED" && e.backend === "msk" && e.message.includes("IAM auth token")) return e;
    e = (e as { originalError?: unknown; cause?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What an MSK auth failure means and what to check, per mode. Never contains a secret. */
export function mskAuthFailureMessage(options: MskOptions): string {
  const brokers = options.brokers.join(",");
  if (options.auth.mode === "iam_role") {
    const who = options.auth.roleArn ? "the role MSK_ROLE_ARN" : "the credentials of the default chain";
    return `[msk] SASL OAUTHBEARER (IAM) authentication failed at ${brokers} — the broker refused IAM authentication: check that ${who} may kafka-cluster:Connect (and the topic/group actions) on this cluster, that MSK_REGION is the cluster's region, and that MSK_BROKERS are the IAM brokers (port 9098)`;
  }
  return `[msk] SASL SCRAM-SHA-512 authentication failed at ${brokers} — check MSK_SASL_USERNAME and MSK_SASL_PASSWORD, that their AmazonMSK_ secret is associated with the cluster, and that MSK_BROKERS are the SCRAM brokers (port 9096)`;
}

/** Kafka's auth errors name KAFKA-style variables; MSK's name its own and the usual MSK causes. */
export function toMskError(error: unknown, options: MskOptions): unknown {
  const token = tokenFailure(error);
  if (token) return token;
  if (!EventsError.isInstance(error) || error.code !== "AUTH_FAILED") return error;
  return new ConnectionError({
    backend: "msk",
    code: "AUTH_FAILED",
    message: mskAuthFailureMessage(options),
    details: { mode: options.auth.mode, brokers: options.brokers },
    cause: error,
  });
}

/** A token the brokers refused is not offered again: the next authentication signs a new one. */
function forgetRefusedToken(error: unknown, provider: MskIamTokenProvider | undefined): void {
  if (provider && EventsError.isInstance(error) && error.code === "AUTH_FAILED" && !tokenFailure(error)) provider.invalidate();
}

/** The Kafka publisher with MSK's auth; errors name the MSK variables. */
export class MskPublisher extends KafkaPublisher {
  readonly tokenProvider: MskIamTokenProvider | undefined;

  constructor(
    private readonly mskOptions: MskOptions,
    deps: KafkaPublisherDeps & MskKafkaDeps = {},
  ) {
    const { kafka, tokenProvider } = toKafkaOptions(mskOptions, deps);
    super(kafka, { ...(deps.source ? { source: deps.source } : {}), ...(deps.logger ? { logger: deps.logger } : {}) });
    this.tokenProvider = tokenProvider;
  }

  protected override fail(error: unknown): EventsError {
    const mapped = toMskError(error, this.mskOptions);
    forgetRefusedToken(mapped, this.tokenProvider);
    return super.fail(mapped);
  }

  override async ready() {
    const report = await super.ready();
    if (report.ready || !report.detail?.includes("authentication failed")) return report;
    return { ...report, detail: mskAuthFailureMessage(this.mskOptions) };
  }
}

/** The Kafka subscriber with MSK's auth; subscribe errors name the MSK variables. */
export class MskSubscriber extends KafkaSubscriber {
  readonly tokenProvider: MskIamTokenProvider | undefined;

  constructor(
    private readonly mskOptions: MskOptions,
    deps: MskKafkaDeps & { handlerAttempts?: number } = {},
  ) {
    const { kafka, tokenProvider } = toKafkaOptions(mskOptions, deps);
    super(kafka, {
      ...(deps.logger ? { logger: deps.logger } : {}),
      ...(deps.handlerAttempts ? { handlerAttempts: deps.handlerAttempts } : {}),
    });
    this.tokenProvider = tokenProvider;
  }

  override async subscribe(...args: Parameters<KafkaSubscriber["subscribe"]>) {
    try {
      return await super.subscribe(...args);
    } catch (error) {
      const mapped = toMskError(error, this.mskOptions);
      forgetRefusedToken(mapped, this.tokenProvider);
      throw mapped;
    }
  }
}

export function createMskPublisher(options: MskOptions, deps: KafkaPublisherDeps & MskKafkaDeps = {}): MskPublisher {
  return new MskPublisher(options, deps);
}

export function createMskSubscriber(options: MskOptions, deps: MskKafkaDeps & { handlerAttempts?: number } = {}): MskSubscriber {
  return new MskSubscriber(options, deps);
}
