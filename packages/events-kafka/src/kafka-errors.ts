// kafkajs errors → core's coded errors. A wrong password becomes AUTH_FAILED naming the mechanism
// (kafkajs does not retry it, so it is fast); the password itself never appears.

import { ConnectionError, type EventsError, PublishError, redactSecrets } from "@kaireon/events-core";
import { classifyClientError } from "./kafka-client.js";
import type { KafkaOptions } from "./kafka-options.js";

export function describeSasl(options: KafkaOptions): string {
  return options.sasl ? `SASL ${options.sasl.mechanism.toUpperCase()}` : "no SASL";
}

export function toEventsError(error: unknown, options: KafkaOptions, what: string): EventsError {
  const backend = options.backend ?? "kafka";
  const secrets = options.sasl && "password" in options.sasl ? [options.sasl.password] : [];
  const reason = redactSecrets((error as Error)?.message ?? String(error), secrets);
  const brokers = options.brokers.join(",");
  switch (classifyClientError(error)) {
    case "auth": {
      const env = backend.toUpperCase();
      const user = options.sasl && "username" in options.sasl ? ` for user "${options.sasl.username}"` : "";
      return new ConnectionError({
        backend,
        code: "AUTH_FAILED",
        message: `[${backend}] ${describeSasl(options)} authentication failed${user} at ${brokers} — check ${env}_SASL_MECHANISM, ${env}_SASL_USERNAME and ${env}_SASL_PASSWORD`,
        details: { mechanism: options.sasl?.mechanism, brokers: options.brokers },
        cause: error,
      });
    }
    case "connection":
      return new ConnectionError({
        backend,
        message: `[${backend}] ${what}: cannot reach the brokers ${brokers} (${reason}) — check ${backend.toUpperCase()}_BROKERS, TLS and the network`,
        details: { brokers: options.brokers },
        cause: error,
      });
    default:
      return new PublishError({ backend, message: `[${backend}] ${what}: ${reason}`, cause: error });
  }
}
