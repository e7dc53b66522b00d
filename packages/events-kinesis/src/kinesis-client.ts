// What the publisher and the reader share: the SDK client (with an HTTP/1.1 handler for local
// emulators), stream addressing by name or ARN, the partition-key rule and SDK error → coded error.

import { createHash } from "node:crypto";
import { KinesisClient, type KinesisClientConfig } from "@aws-sdk/client-kinesis";
import { authFailedError, ConnectionError, classifyAwsError, EventsError, PublishError, redactUrl } from "@kaireon/events-core/backend";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { DEFAULT_KINESIS_REQUEST_TIMEOUT_MS, KINESIS_LIMITS, type KinesisOptions } from "./kinesis-options.js";

export const BACKEND = "kinesis";

/**
 * The SDK's Kinesis client speaks HTTP/2 by default (for SubscribeToShard); moto and LocalStack only
 * speak HTTP/1.1. With an endpoint override we give it a plain HTTP/1.1 handler, which serves every
 * operation this package uses (PutRecords, ListShards, GetShardIterator, GetRecords).
 *
 * Both handlers get a request timeout (KINESIS_REQUEST_TIMEOUT_MS, per attempt of the SDK's retries):
 * without one a request to a peer that accepted the connection and went silent never settles, and
 * holds its Batcher slot (and in strict mode its keys), a reader's poll, or ready() forever.
 */
export function createKinesisClient(
  options: Pick<KinesisOptions, "endpoint"> & Partial<Pick<KinesisOptions, "requestTimeoutMs">>,
  extra: KinesisClientConfig = {},
): KinesisClient {
  const config: KinesisClientConfig = { ...extra };
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_KINESIS_REQUEST_TIMEOUT_MS;
  if (options.endpoint !== undefined) {
    config.endpoint = options.endpoint;
    // throwOnRequestTimeout: without it the handler only logs a warning and the request goes on waiting.
    config.requestHandler ??= new NodeHttpHandler({
      connectionTimeout: Math.min(requestTimeout, 3_000),
      requestTimeout,
      throwOnRequestTimeout: true,
    });
  } else {
    // Options instead of an instance: the SDK builds its own HTTP/2 handler with them (an idle stream
    // times out after requestTimeout). disableConcurrentStreams is the SDK's own default for Kinesis.
    config.requestHandler ??= { requestTimeout, disableConcurrentStreams: true } as KinesisClientConfig["requestHandler"];
  }
  return new KinesisClient(config);
}

/** `{ StreamARN }` for an ARN, `{ StreamName }` otherwise: every API we call accepts either. */
export function streamParams(stream: string): { StreamARN: string } | { StreamName: string } {
  return stream.startsWith("arn:") ? { StreamARN: stream } : { StreamName: stream };
}

/** The stream's name (the last part of an ARN), for MessageContext.source and messages. */
export function streamName(stream: string): string {
  return stream.startsWith("arn:") ? stream.slice(stream.lastIndexOf("/") + 1) : stream;
}

/**
 * The Kinesis PartitionKey for an envelope's `partitionkey`. Kinesis accepts 1–256 Unicode
 * characters; a longer key becomes `sha256:` + the 64-hex SHA-256 of its UTF-8 bytes (71 characters).
 * Deterministic, so every event of one customer still lands on one shard. The envelope keeps the
 * original key; only the routing key is shortened.
 */
export function kinesisPartitionKey(key: string): string {
  let characters = 0;
  for (const _ of key) if (++characters > KINESIS_LIMITS.maxPartitionKeyLength) break;
  if (characters <= KINESIS_LIMITS.maxPartitionKeyLength) return key;
  return `sha256:${createHash("sha256").update(key, "utf8").digest("hex")}`;
}

/** Turns an SDK/network error into a coded EventsError whose message says what to check. */
export function toEventsError(error: unknown, stream: string, endpoint?: string): EventsError {
  if (EventsError.isInstance(error)) return error;
  const failure = classifyAwsError(error);
  const { name, detail, retryable } = failure;
  const where = endpoint ? ` at ${redactUrl(endpoint)}` : "";
  if (failure.kind === "network") {
    return new ConnectionError({
      backend: BACKEND,
      message: `[kinesis] cannot reach Kinesis${where} (${failure.networkCode}) — check KINESIS_ENDPOINT_URL / AWS_ENDPOINT_URL and AWS_REGION`,
      cause: error,
      sent: failure.sent,
      retryable,
    });
  }
  if (failure.kind === "timeout") {
    return new ConnectionError({
      backend: BACKEND,
      message: `[kinesis] no answer from Kinesis${where}: ${detail}`,
      cause: error,
      sent: "unknown",
    });
  }
  if (failure.kind === "auth") {
    return authFailedError({
      backend: BACKEND,
      message: `[kinesis] AWS refused the credentials (${name}) — check AWS_PROFILE / AWS_ACCESS_KEY_ID and the role's kinesis permissions on ${streamName(stream)}`,
      cause: error,
    });
  }
  if (failure.kind === "not-found") {
    return new PublishError({
      backend: BACKEND,
      message: `[kinesis] stream "${streamName(stream)}" not found — check KINESIS_STREAM and AWS_REGION, or create the stream`,
      cause: error,
      details: { awsError: name },
    });
  }
  return new PublishError({
    backend: BACKEND,
    message: `[kinesis] ${name}: ${detail}`,
    cause: error,
    details: { awsError: name },
    retryable,
  });
}
