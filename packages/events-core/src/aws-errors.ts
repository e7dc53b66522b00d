// How an AWS SDK (or network) error is read, for every AWS backend (EventBridge, Kinesis, MSK's
// signer): one list of credential refusals, one of network codes, one rule for what is worth
// retrying and what may have landed. Structural only — core does not depend on the AWS SDK.

/** What kind of failure an AWS call ended in. */
export type AwsFailureKind = "network" | "timeout" | "auth" | "not-found" | "other";

export interface AwsFailure {
  kind: AwsFailureKind;
  /** The SDK's error name (`AccessDeniedException`), or `Error`. */
  name: string;
  /** The SDK's message, or the value as text. */
  detail: string;
  /** A Node network code (`ECONNREFUSED`) found on the error or its causes. */
  networkCode?: string;
  /** `false` when the request certainly never left (refused connection, unknown host); `"unknown"` when it may have landed. */
  sent?: false | "unknown";
  /** `true` when the request certainly did not land and can go again at once (throttled, 5xx, never sent). */
  retryable?: true;
}

/** Per-entry / per-record ErrorCodes (PutEvents, PutRecords) and SDK error names that can succeed on retry. */
export const AWS_RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "InternalFailure",
  "InternalException",
]);

/** Credential or permission refusals (SDK error names and per-entry ErrorCodes). */
export const AWS_AUTH_CODES: ReadonlySet<string> = new Set([
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "NotAuthorizedForSourceException",
  "NotAuthorizedForDetailTypeException",
  "CredentialsProviderError",
]);

// The connection never carried the request: safe to send again, nothing landed.
const NOT_SENT_NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
  errors?: unknown[];
}

/** A Node network code (`E…`) on the error or up to three causes deep (an AggregateError's first). */
function awsNetworkCode(error: unknown): string | undefined {
  let e = error as AwsLikeError | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) return e.code;
    e = (e.cause ?? e.errors?.[0]) as AwsLikeError | undefined;
  }
  return undefined;
}

/** Reads an AWS SDK or network error. Never reads or returns credentials. */
export function classifyAwsError(error: unknown): AwsFailure {
  const e = (typeof error === "object" && error !== null ? error : undefined) as AwsLikeError | undefined;
  const name = e?.name ?? "Error";
  const detail = e?.message ?? String(error);
  const networkCode = awsNetworkCode(error);
  const status = e?.$metadata?.httpStatusCode;
  const notSent = networkCode !== undefined && NOT_SENT_NETWORK_CODES.has(networkCode);
  const retryable = notSent || AWS_RETRYABLE_CODES.has(name) || (status !== undefined && (status === 429 || status >= 500));
  const base = { name, detail, ...(retryable ? { retryable: true as const } : {}) };
  if (networkCode !== undefined) return { ...base, kind: "network", networkCode, sent: notSent ? false : "unknown" };
  if (name === "TimeoutError" || name === "AbortError") return { ...base, kind: "timeout", sent: "unknown" };
  if (AWS_AUTH_CODES.has(name) || name.includes("Credential")) return { ...base, kind: "auth" };
  if (name === "ResourceNotFoundException") return { ...base, kind: "not-found" };
  return { ...base, kind: "other" };
}
