// kafkajs errors → core's coded errors. A wrong password becomes AUTH_FAILED naming the mechanism
// (kafkajs does not retry it, so it is fast); the password itself never appears. An EventsError that
// caller code raised inside the client (an OAUTHBEARER token provider) is already coded: it passes as is.

import { ConnectionError, EventsError, PublishError, redactSecrets } from "@kaireon/events-core";
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

export function toEventsError(error: unknown, options: KafkaOptions, what: string): EventsError {
  const coded = codedError(error);
  if (coded) return coded;
  const backend = options.backend ?? "kafka";
  const secrets = options.sasl && "password" in options.sasl ? [options.sasl.password] : [];
  const reason = redactSecrets((error as Error)?.message ?? String(error), secrets);
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
        cause: error,
      });
    }
    case "connection":
      return new ConnectionError({
        backend,
        message: `[${backend}] ${what}: cannot reach the brokers ${brokers} (${reason}) — ${hints.connection}`,
        details: { brokers: options.brokers },
        cause: error,
      });
    default:
      return new PublishError({ backend, message: `[${backend}] ${what}: ${reason}`, cause: error });
  }
}
