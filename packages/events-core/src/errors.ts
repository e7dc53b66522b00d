// One error base for every package. `isInstance` checks a Symbol.for marker instead of `instanceof`,
// so it still works when an app ends up with two copies of core (duplicate installs, bundles).

const marker = Symbol.for("@kaireon/events.error");

/** The codes core and the backends share; errorClassOf (below) gives each its class. */
export type KnownErrorCode =
  | "CONFIG_INVALID"
  | "BACKEND_NOT_INSTALLED"
  | "BACKEND_INVALID"
  | "VALIDATION_FAILED"
  | "UNKNOWN_TOPIC"
  | "CONNECTION_FAILED"
  | "AUTH_FAILED"
  | "PUBLISH_FAILED"
  | "PUBLISH_TIMEOUT"
  | "PUBLISHER_CLOSED"
  | "SUBSCRIBER_CLOSED"
  | "QUEUE_FULL"
  | "EVENT_TOO_LARGE"
  | "MALFORMED_MESSAGE"
  | "HANDLER_FAILED";

/** A known code, or a backend's own (e.g. `ACK_FAILED`), thrown as the base EventsError. */
export type ErrorCode = KnownErrorCode | (string & {});

/** Whether the event reached the broker: `false` never sent, `"unknown"` may have landed, `true` it did. */
export type Sent = boolean | "unknown";

export interface EventsErrorOptions {
  code: ErrorCode;
  message: string;
  /** Backend id (`redis`, `kafka`, …) or `core`. */
  backend?: string;
  cause?: unknown;
  details?: Record<string, unknown>;
  /** See EventsError.retryable; unset: `details.retryable`, else the code's default. */
  retryable?: boolean;
  /** See EventsError.sent; unset: `details.sent`. */
  sent?: Sent;
}

// The event itself is refused: sending it again, unchanged, gives the same answer.
const notRetryableCodes: ReadonlySet<string> = new Set(["VALIDATION_FAILED", "UNKNOWN_TOPIC", "EVENT_TOO_LARGE", "MALFORMED_MESSAGE"]);

export class EventsError extends Error {
  readonly [marker] = true;
  readonly code: ErrorCode;
  readonly backend: string;
  readonly details: Record<string, unknown> | undefined;
  /**
   * `true`: a transient failure, sending the event again can succeed. `false`: the event itself is
   * refused (invalid, too large, malformed) and never will be as it is. `undefined`: not known — it
   * depends on something outside the event (credentials, a missing stream, the network's answer).
   * The outbox relay dead-letters a `false` at once and retries the rest.
   */
  readonly retryable: boolean | undefined;
  /** Whether the event reached the broker, where the backend knows (see Sent). */
  readonly sent: Sent | undefined;

  constructor({ code, message, backend = "core", cause, details, retryable, sent }: EventsErrorOptions) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "EventsError";
    this.code = code;
    this.backend = backend;
    const fromDetails = details?.retryable;
    this.retryable = retryable ?? (typeof fromDetails === "boolean" ? fromDetails : notRetryableCodes.has(code) ? false : undefined);
    const sentDetail = details?.sent;
    this.sent = sent ?? (typeof sentDetail === "boolean" || sentDetail === "unknown" ? sentDetail : undefined);
    // `details.retryable` / `details.sent` stay where they were read before these fields existed.
    this.details =
      retryable === undefined && sent === undefined
        ? details
        : {
            ...details,
            ...(retryable === undefined ? {} : { retryable }),
            ...(sent === undefined ? {} : { sent }),
          };
  }

  static isInstance(error: unknown): error is EventsError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

/** A variable or option is missing or wrong. The message names it and says the fix. */
export class ConfigError extends EventsError {
  constructor(options: Omit<EventsErrorOptions, "code"> & { code?: ErrorCode }) {
    super({ code: "CONFIG_INVALID", ...options });
    this.name = "ConfigError";
  }
}

/** EVENT_PUBLISHER names a backend whose package is not installed. */
export class BackendNotInstalledError extends EventsError {
  readonly packageName: string;
  constructor(options: { backend: string; packageName: string; cause?: unknown }) {
    super({
      code: "BACKEND_NOT_INSTALLED",
      backend: options.backend,
      cause: options.cause,
      details: { packageName: options.packageName },
      message: `EVENT_PUBLISHER=${options.backend} needs ${options.packageName} — install it: pnpm add ${options.packageName}`,
    });
    this.name = "BackendNotInstalledError";
    this.packageName = options.packageName;
  }
}

export interface ValidationIssue {
  /** Dotted field path, e.g. `data.customerId`. */
  path: string;
  message: string;
}

/** An event or payload failed its schema. Nothing was sent. */
export class ValidationError extends EventsError {
  readonly issues: ValidationIssue[];
  constructor(options: {
    message: string;
    issues: ValidationIssue[];
    backend?: string;
    cause?: unknown;
    code?: ErrorCode;
    details?: Record<string, unknown>;
    retryable?: boolean;
    sent?: Sent;
  }) {
    super({ code: "VALIDATION_FAILED", ...options, details: { ...options.details, issues: options.issues } });
    this.name = "ValidationError";
    this.issues = options.issues;
  }
}

/** The broker could not be reached or refused the credentials. */
export class ConnectionError extends EventsError {
  constructor(options: Omit<EventsErrorOptions, "code"> & { code?: ErrorCode }) {
    super({ code: "CONNECTION_FAILED", ...options });
    this.name = "ConnectionError";
  }
}

/** A publish did not reach the broker (timeout, refusal, closed publisher, full queue, too large). */
export class PublishError extends EventsError {
  constructor(options: Omit<EventsErrorOptions, "code"> & { code?: ErrorCode }) {
    super({ code: "PUBLISH_FAILED", ...options });
    this.name = "PublishError";
  }
}

/**
 * The one class each code is thrown as, on every backend: catch by class or by code and get the same
 * answer. Codes thrown as the base class are those with no narrower kind (a handler's failure, a
 * closed subscriber). A test walks every code and every construction site against this map.
 */
export const errorClassOf = {
  CONFIG_INVALID: ConfigError,
  BACKEND_NOT_INSTALLED: BackendNotInstalledError,
  BACKEND_INVALID: ConfigError,
  VALIDATION_FAILED: ValidationError,
  UNKNOWN_TOPIC: ValidationError,
  MALFORMED_MESSAGE: ValidationError,
  CONNECTION_FAILED: ConnectionError,
  AUTH_FAILED: ConnectionError,
  PUBLISH_FAILED: PublishError,
  PUBLISH_TIMEOUT: PublishError,
  PUBLISHER_CLOSED: PublishError,
  QUEUE_FULL: PublishError,
  EVENT_TOO_LARGE: PublishError,
  SUBSCRIBER_CLOSED: EventsError,
  HANDLER_FAILED: EventsError,
} as const satisfies Record<KnownErrorCode, abstract new (...args: never[]) => EventsError>;
