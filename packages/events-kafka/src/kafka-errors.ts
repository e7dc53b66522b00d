// kafkajs errors → core's coded errors. A wrong password becomes AUTH_FAILED naming the mechanism
// (kafkajs does not retry it, so it is fast); the password itself never appears. An EventsError that
// caller code raised inside the client (an OAUTHBEARER token provider) is already coded: it passes as is.

import { ConnectionError, EventsError, PublishError, redactSecrets } from "@kaireon/events-core/backend";
import { classifyClientError } from "./kafka-client.js";
import type { KafkaOptions } from "./kafka-options.js";

export function describeSasl(options: KafkaOptions): string {
  return options.sasl ? `SASL ${options.sasl.mechanism.toUpperCase()}` : "no SASL";
}

/** What auth and connection errors tell the user to check; the variables of the package that built the options. */
export function errorHints(options: KafkaOptions): { auth: string; connection: string } {
  // The KAFKA_* names are only right for options read from KAFKA_*; another backend without hints
  // gets advice that names no variable rather than one that does not exist (MSK_SASL_MECHANISM).
  const kafka = (options.backend ?? "kafka") === "kafka";
  return {
    auth:
      options.hints?.auth ??
      (kafka
        ? "check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
        : "check the SASL mechanism, username and password"),
    connection:
      options.hints?.connection ?? (kafka ? "check KAFKA_BROKERS, TLS and the network" : "check the broker addresses, TLS and the network"),
  };
}

/** The first EventsError in the cause chain (kafkajs keeps a thrown error as originalError or cause). */
function codedError(error: unknown): EventsError | undefined {
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e && typeof e === "object" && !seen.has(e)) {
    if (EventsError.isInstance(e)) return e;
    seen.add(e);
    e = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What a cause may keep: the fields callers and retry logic read. Everything else (sockets, brokers, config) is dropped. */
const causeFields = ["type", "code", "retriable"] as const;

/**
 * A copy of a client error safe to keep as `cause`: name, message and stack with the secrets masked,
 * type/code/retriable kept, and its own cause (kafkajs: originalError) copied the same way. kafkajs
 * errors keep what they were built from, so the raw object could carry a password or broker details
 * into every log line that prints the error with its causes.
 */
export function redactedCause(error: unknown, secrets: readonly string[], depth = 0): unknown {
  if (error === null || error === undefined) return undefined;
  if (typeof error !== "object") return redactSecrets(String(error), secrets);
  const source = error as Error & Record<string, unknown>;
  const copy = new Error(redactSecrets(String(source.message ?? ""), secrets)) as Error & Record<string, unknown>;
  copy.name = typeof source.name === "string" ? source.name : "Error";
  copy.stack = typeof source.stack === "string" ? redactSecrets(source.stack, secrets) : `${copy.name}: ${copy.message}`;
  for (const field of causeFields) {
    const value = source[field];
    if (typeof value === "string") copy[field] = redactSecrets(value, secrets);
    else if (typeof value === "number" || typeof value === "boolean") copy[field] = value;
  }
  const inner = source.originalError ?? source.cause;
  // Depth-bounded: a cause chain can be cyclic.
  if (inner !== undefined && inner !== error && depth < 8) {
    const next = EventsError.isInstance(inner) ? inner : redactedCause(inner, secrets, depth + 1);
    if (next !== undefined) Object.defineProperty(copy, "cause", { value: next, enumerable: false, writable: true, configurable: true });
  }
  return copy;
}

/**
 * The message with what it hides: @platformatic/kafka reports "Producing messages failed." or
 * "produce failed 3 times." and keeps the reasons in `errors` (an AggregateError) and `cause`.
 */
function clientErrorMessage(error: unknown): string {
  const top = (error as Error)?.message ?? String(error);
  const inner: string[] = [];
  const seen = new Set<unknown>([error]);
  const queue: unknown[] = [];
  const push = (e: unknown) => {
    const { errors, cause } = (e ?? {}) as { errors?: unknown; cause?: unknown };
    if (Array.isArray(errors)) queue.push(...errors);
    if (cause) queue.push(cause);
  };
  push(error);
  while (queue.length > 0 && inner.length < 4) {
    const e = queue.shift();
    if (!e || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    const message = (e as Error).message;
    if (typeof message === "string" && message && message !== top && !inner.includes(message)) inner.push(message);
    push(e);
  }
  return inner.length === 0 ? top : `${top} (${inner.join("; ")})`;
}

export function toEventsError(error: unknown, options: KafkaOptions, what: string): EventsError {
  const coded = codedError(error);
  if (coded) return coded;
  const backend = options.backend ?? "kafka";
  const secrets = options.sasl && "password" in options.sasl ? [options.sasl.password] : [];
  const reason = redactSecrets(clientErrorMessage(error), secrets);
  const cause = redactedCause(error, secrets);
  const brokers = options.brokers.join(",");
  const hints = errorHints(options);
  switch (classifyClientError(error)) {
    case "auth": {
      const user = options.sasl && "username" in options.sasl ? ` for user "${options.sasl.username}"` : "";
      return new ConnectionError({
        backend,
        code: "AUTH_FAILED",
        message: `[${backend}] ${describeSasl(options)} authentication failed${user} at ${brokers} — ${hints.auth}`,
        details: { mechanism: options.sasl?.mechanism, brokers: options.brokers },
        cause,
      });
    }
    case "connection":
      return new ConnectionError({
        backend,
        message: `[${backend}] ${what}: cannot reach the brokers ${brokers} (${reason}) — ${hints.connection}`,
        details: { brokers: options.brokers },
        cause,
      });
    default:
      return new PublishError({ backend, message: `[${backend}] ${what}: ${reason}`, cause });
  }
}
