// Which AWS failures are worth retrying and which coded error a final failure becomes. A request is
// retried whole only when it certainly did not land (throttled, 5xx, connection refused): PutEvents
// has no idempotency key, so a request that timed out after sending is reported, not re-sent.

import { ConnectionError, type EventsError, PublishError } from "@kaireon/events-core/backend";

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
    return new PublishError({
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
    return new PublishError({
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
