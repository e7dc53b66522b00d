// The AWS transport: the SDK client configs of the publisher (EventBridge) and the subscriber (SQS),
// and the error mapping. Which AWS failures are worth retrying and which coded error a final failure becomes. A request is
// retried whole only when it certainly did not land (throttled, 5xx, connection refused): PutEvents
// has no idempotency key, so a request that timed out after sending is reported, not re-sent.

import type { EventBridgeClientConfig } from "@aws-sdk/client-eventbridge";
import type { SQSClientConfig } from "@aws-sdk/client-sqs";
import { ConnectionError, type EventsError, PublishError } from "@kaireon/events-core/backend";
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

/** Per-entry ErrorCodes that can succeed on retry (AWS PutEvents documentation). */
export const RETRYABLE_ENTRY_CODES: ReadonlySet<string> = new Set(["InternalFailure", "ThrottlingException"]);

const AUTH_CODES = new Set([
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "NotAuthorizedForSourceException",
  "NotAuthorizedForDetailTypeException",
  "CredentialsProviderError",
]);

const NOT_SENT_NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function networkCode(error: unknown): string | undefined {
  let e = error as (AwsLikeError & { cause?: unknown; errors?: unknown[] }) | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) return e.code;
    e = (e.cause ?? e.errors?.[0]) as typeof e;
  }
  return undefined;
}

export function isRetryableRequestError(error: unknown): boolean {
  const e = error as AwsLikeError | undefined;
  if (!e) return false;
  if (e.name === "ThrottlingException" || e.name === "InternalException" || e.name === "InternalFailure") return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  const code = networkCode(error);
  return code !== undefined && NOT_SENT_NETWORK_CODES.has(code);
}

/** A thrown PutEvents failure as a coded error; names the bus, never a credential. */
export function requestError(error: unknown, bus: string, backend = "eventbridge"): EventsError {
  const e = error as AwsLikeError | undefined;
  const name = e?.name ?? "Error";
  const retryable = isRetryableRequestError(error);
  const detail = `${name}: ${e?.message ?? String(error)}`;
  const code = networkCode(error);
  if (code !== undefined || name === "TimeoutError") {
    const sent = code !== undefined && NOT_SENT_NETWORK_CODES.has(code) ? false : "unknown";
    return new ConnectionError({
      backend,
      message: `[${backend}] cannot reach EventBridge (${detail}) — check AWS_REGION and the endpoint (EVENTBRIDGE_ENDPOINT_URL / AWS_ENDPOINT_URL)${sent === "unknown" ? "; the request may have landed" : ""}`,
      cause: error,
      details: { awsError: name, networkCode: code, sent, retryable },
    });
  }
  if (AUTH_CODES.has(name) || name.includes("Credential")) {
    return new ConnectionError({
      backend,
      code: "AUTH_FAILED",
      message: `[${backend}] AWS refused the request (${detail}) — give the credentials events:PutEvents on bus "${bus}"`,
      cause: error,
      details: { awsError: name, retryable },
    });
  }
  if (name === "ResourceNotFoundException") {
    return new PublishError({
      backend,
      message: `[${backend}] event bus "${bus}" does not exist (${detail}) — create it or fix EVENTBRIDGE_BUS`,
      cause: error,
      details: { awsError: name, retryable },
    });
  }
  return new PublishError({
    backend,
    message: `[${backend}] PutEvents failed (${detail})`,
    cause: error,
    details: { awsError: name, retryable },
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
  const retryable = RETRYABLE_ENTRY_CODES.has(errorCode);
  const why = `${errorCode}${errorMessage ? `: ${errorMessage}` : ""}`;
  if (AUTH_CODES.has(errorCode)) {
    return new ConnectionError({
      backend,
      code: "AUTH_FAILED",
      message: `[${backend}] EventBridge refused the entry (${why}) — allow events:PutEvents for this Source/DetailType on bus "${bus}"`,
      details: { awsError: errorCode, attempts },
    });
  }
  return new PublishError({
    backend,
    message: retryable
      ? `[${backend}] EventBridge rejected the entry ${attempts} times (${why}) — the bus is throttled or failing; raise EVENTBRIDGE_MAX_ATTEMPTS or the PutEvents quota`
      : `[${backend}] EventBridge rejected the entry (${why}); not retried, it cannot succeed as it is`,
    details: { awsError: errorCode, attempts, retryable },
  });
}
