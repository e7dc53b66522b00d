// The errors more than one backend (or core's Batcher and PublisherBase) raise, built here once so
// each code has one message shape, one class (errorClassOf) and the same `sent` / `retryable`.
// Backends pass what only they know: the variable that sets a limit, the advice for their users.

import { ConnectionError, EventsError, PublishError } from "./errors.js";

/** PUBLISHER_CLOSED: publish (or a queued event) after close(). Nothing was sent. */
export function publisherClosedError(backend: string): PublishError {
  return new PublishError({
    backend,
    code: "PUBLISHER_CLOSED",
    message: `[${backend}] publisher is closed — publish before close(), or create a new publisher`,
    sent: false,
  });
}

/** An EventsError as it is; anything else (a client's own error) as PUBLISH_FAILED "publish failed: …". */
export function toPublishError(backend: string, error: unknown): EventsError {
  if (EventsError.isInstance(error)) return error;
  return new PublishError({
    backend,
    message: `[${backend}] publish failed: ${(error as Error)?.message ?? String(error)}`,
    cause: error,
  });
}

export interface QueueFullOptions {
  backend: string;
  /** How many wait at most. */
  limit: number;
  /** Who the queue waits for: the broker (a publisher's queue) or the handler (a subscriber's). */
  waitingFor: "broker" | "handler";
  /** The fix, e.g. `raise REDIS_MAX_PENDING or slow down`. */
  fix: string;
}

/**
 * QUEUE_FULL: a bounded queue is full. A publisher's event was not sent (`sent: false`) and can be
 * sent later (`retryable`); a subscriber's message was dropped.
 */
export function queueFullError({ backend, limit, waitingFor, fix }: QueueFullOptions): PublishError {
  const message =
    waitingFor === "broker"
      ? `[${backend}] ${limit} events are already waiting for the broker — the broker is slow or down; ${fix}`
      : `[${backend}] ${limit} messages are already waiting for the handler; this one was dropped — ${fix}`;
  const publisher = waitingFor === "broker" ? ({ sent: false, retryable: true } as const) : {};
  return new PublishError({ backend, code: "QUEUE_FULL", message, details: { maxQueued: limit }, ...publisher });
}

export interface EventTooLargeOptions {
  backend: string;
  size: number;
  limit: number;
  /** The variable that sets the limit (`KINESIS_MAX_RECORD_BYTES`); unset: the limit of one request. */
  limitName?: string;
  eventId?: string;
  /** What was measured, e.g. `data + partition key`. */
  measured?: string;
  /** More of the fix after "make the payload smaller". */
  hint?: string;
}

/** EVENT_TOO_LARGE: measured before sending, so nothing was sent; not retryable as it is. */
export function eventTooLargeError(o: EventTooLargeOptions): PublishError {
  const what = `event${o.eventId === undefined ? "" : ` ${o.eventId}`} is ${o.size} bytes${o.measured === undefined ? "" : ` (${o.measured})`}`;
  const over = o.limitName === undefined ? `the ${o.limit}-byte limit of one request` : `${o.limitName}=${o.limit}`;
  return new PublishError({
    backend: o.backend,
    code: "EVENT_TOO_LARGE",
    message: `[${o.backend}] ${what}, over ${over} — make the payload smaller${o.hint === undefined ? "" : ` ${o.hint}`}; nothing was sent`,
    details: { size: o.size, limit: o.limit },
    sent: false,
  });
}

/** AUTH_FAILED: the broker refused the credentials or the permission. Always a ConnectionError. */
export function authFailedError(options: {
  backend: string;
  message: string;
  cause?: unknown;
  details?: Record<string, unknown>;
  sent?: boolean | "unknown";
}): ConnectionError {
  return new ConnectionError({ ...options, code: "AUTH_FAILED" });
}
