// The AWS transport: the SDK client configs of the publisher (EventBridge) and the subscriber (SQS),
// and the error mapping (the AWS classifier is core's, shared with Kinesis): which AWS failures are worth retrying and which coded error a final failure becomes. A request is
// retried whole only when it certainly did not land (throttled, 5xx, connection refused): PutEvents
// has no idempotency key, so a request that timed out after sending is reported, not re-sent.

import type { EventBridgeClientConfig } from "@aws-sdk/client-eventbridge";
import type { SQSClientConfig } from "@aws-sdk/client-sqs";
import {
  AWS_AUTH_CODES,
  AWS_RETRYABLE_CODES,
  authFailedError,
  ConnectionError,
  classifyAwsError,
  type EventsError,
  PublishError,
} from "@kaireon/events-core/backend";
import { DEFAULT_REQUEST_TIMEOUT_MS, type EventBridgeOptions } from "./eventbridge-options.js";

/** SDK client config for our options: region, endpoint, timeouts, and no SDK-level retries. */
export function eventBridgeClientConfig(
  options: Pick<EventBridgeOptions, "region" | "endpoint" | "requestTimeoutMs">,
): EventBridgeClientConfig {
  const config: EventBridgeClientConfig = {
    maxAttempts: 1,
    // throwOnRequestTimeout: a hung request fails and frees its in-flight slot instead of only logging a warning.
    requestHandler: {
      connectionTimeout: Math.min(options.requestTimeoutMs, 3_000),
      requestTimeout: options.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  };
  if (options.region !== undefined) config.region = options.region;
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  return config;
}

/** SDK client config for the subscriber: region, endpoint, and a request timeout that throws (a hung request ends). */
export function sqsClientConfig(
  options: Pick<EventBridgeOptions, "region" | "sqsEndpoint"> & Partial<Pick<EventBridgeOptions, "requestTimeoutMs">>,
): SQSClientConfig {
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const config: SQSClientConfig = {
    // A long poll raises it per call (ReceiveMessage); throwOnRequestTimeout: without it the handler only warns.
    requestHandler: { connectionTimeout: Math.min(requestTimeout, 3_000), requestTimeout, throwOnRequestTimeout: true },
  };
  if (options.region !== undefined) config.region = options.region;
  if (options.sqsEndpoint !== undefined) config.endpoint = options.sqsEndpoint;
  return config;
}

/** A thrown PutEvents failure as a coded error; names the bus, never a credential. */
export function requestError(error: unknown, bus: string, backend = "eventbridge"): EventsError {
  const failure = classifyAwsError(error);
  const { name, retryable } = failure;
  const detail = `${name}: ${failure.detail}`;
  if (failure.kind === "network" || failure.kind === "timeout") {
    const sent = failure.sent ?? "unknown";
    return new ConnectionError({
      backend,
      message: `[${backend}] cannot reach EventBridge (${detail}) — check AWS_REGION and the endpoint (EVENTBRIDGE_ENDPOINT_URL / AWS_ENDPOINT_URL)${sent === "unknown" ? "; the request may have landed" : ""}`,
      cause: error,
      details: { awsError: name, networkCode: failure.networkCode },
      sent,
      retryable,
    });
  }
  if (failure.kind === "auth") {
    return authFailedError({
      backend,
      message: `[${backend}] AWS refused the request (${detail}) — give the credentials events:PutEvents on bus "${bus}"`,
      cause: error,
      details: { awsError: name },
    });
  }
  if (failure.kind === "not-found") {
    return new PublishError({
      backend,
      message: `[${backend}] event bus "${bus}" does not exist (${detail}) — create it or fix EVENTBRIDGE_BUS`,
      cause: error,
      details: { awsError: name },
      retryable,
    });
  }
  return new PublishError({
    backend,
    message: `[${backend}] PutEvents failed (${detail})`,
    cause: error,
    details: { awsError: name },
    retryable,
  });
}

/** A failed PutEvents entry as a coded error. */
export function entryError(
  errorCode: string,
  errorMessage: string | undefined,
  attempts: number,
  bus: string,
  backend = "eventbridge",
): EventsError {
  const retryable = AWS_RETRYABLE_CODES.has(errorCode);
  const why = `${errorCode}${errorMessage ? `: ${errorMessage}` : ""}`;
  if (AWS_AUTH_CODES.has(errorCode)) {
    return authFailedError({
      backend,
      message: `[${backend}] EventBridge refused the entry (${why}) — allow events:PutEvents for this Source/DetailType on bus "${bus}"`,
      details: { awsError: errorCode, attempts },
    });
  }
  return new PublishError({
    backend,
    message: retryable
      ? `[${backend}] EventBridge rejected the entry ${attempts} times (${why}) — the bus is throttled or failing; raise EVENTBRIDGE_MAX_ATTEMPTS or the PutEvents quota`
      : `[${backend}] EventBridge rejected the entry (${why}); not retried, it cannot succeed as it is`,
    details: { awsError: errorCode, attempts },
    // Not a throttle or an internal failure: EventBridge refused the entry itself (MalformedDetail…).
    retryable,
  });
}
