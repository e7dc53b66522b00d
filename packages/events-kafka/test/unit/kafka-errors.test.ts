// Error mapping. The kafkajs error objects are built by hand here because a real broker cannot be
// made to produce each shape on demand; the real AUTH_FAILED path is covered by the integration test.

import { ConnectionError, PublishError } from "@kaireon/events-core";
import { describe, expect, it } from "vitest";
import { resolveKafkaOptions } from "../../src/index.js";
import { toEventsError } from "../../src/kafka-errors.js";

const options = resolveKafkaOptions({ brokers: ["b:9096"], sasl: { mechanism: "scram-sha-512", username: "svc", password: "pw-SECRET" } });

function kafkaError(name: string, message: string, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(message), { name, ...extra });
}

describe("kafkajs errors become coded errors", () => {
  it("SASL failure → AUTH_FAILED naming the mechanism and the variables, without the password", () => {
    const error = toEventsError(kafkaError("KafkaJSSASLAuthenticationError", "bad creds pw-SECRET"), options, "publish failed");
    expect(error.code).toBe("AUTH_FAILED");
    expect(error.message).toContain("SCRAM-SHA-512");
    expect(error.message).toContain("KAFKA_SASL_PASSWORD");
    expect(error.message).not.toContain("pw-SECRET");
  });

  it("an auth failure wrapped in retries is still AUTH_FAILED", () => {
    const inner = kafkaError("KafkaJSSASLAuthenticationError", "bad");
    const outer = kafkaError("KafkaJSNumberOfRetriesExceeded", "retries", { originalError: inner });
    expect(toEventsError(outer, options, "x").code).toBe("AUTH_FAILED");
  });

  it("connection refused → CONNECTION_FAILED naming the brokers and KAFKA_BROKERS", () => {
    const refused = kafkaError("KafkaJSConnectionError", "Connection error: connect ECONNREFUSED");
    const error = toEventsError(refused, options, "publish failed");
    expect(error.code).toBe("CONNECTION_FAILED");
    expect(error.message).toContain("b:9096");
    expect(error.message).toContain("check KAFKA_BROKERS");
  });

  it("another backend names the variables its caller supplies in `hints`, never invented ones", () => {
    const hints = { auth: "check MSK_SASL_USERNAME and MSK_SASL_PASSWORD", connection: "check MSK_BROKERS and the security group" };
    const msk = { ...options, backend: "msk", hints };
    const auth = toEventsError(kafkaError("KafkaJSSASLAuthenticationError", "no"), msk, "x");
    expect(auth.code).toBe("AUTH_FAILED");
    expect(auth.backend).toBe("msk");
    expect(auth.message).toMatch(
      /^\[msk\] SASL SCRAM-SHA-512 authentication failed for user "svc" at b:9096 — check MSK_SASL_USERNAME and MSK_SASL_PASSWORD$/,
    );
    const conn = toEventsError(kafkaError("KafkaJSConnectionError", "ECONNREFUSED"), msk, "publish failed");
    expect(conn.message).toMatch(/— check MSK_BROKERS and the security group$/);
    // Without hints: no KAFKA_* name (wrong for this backend) and no made-up MSK_SASL_MECHANISM.
    const bare = toEventsError(kafkaError("KafkaJSSASLAuthenticationError", "no"), { ...options, backend: "msk" }, "x");
    expect(bare.message).not.toMatch(/KAFKA_|MSK_SASL_MECHANISM/);
    expect(bare.message).toContain("check the SASL mechanism, username and password");
  });

  it("an EventsError raised inside the client (a token provider) passes through unchanged, even wrapped in retries", () => {
    const fromProvider = new ConnectionError({ backend: "msk", code: "AUTH_FAILED", message: "[msk] could not sign an IAM auth token: x" });
    expect(toEventsError(fromProvider, options, "publish failed")).toBe(fromProvider);
    const wrapped = kafkaError("KafkaJSNumberOfRetriesExceeded", "retries", { originalError: fromProvider });
    expect(toEventsError(wrapped, options, "publish failed")).toBe(fromProvider);
    const caused = kafkaError("KafkaJSNonRetriableError", "nope", { cause: fromProvider });
    expect(toEventsError(caused, options, "subscribe failed")).toBe(fromProvider);
    const timeout = new PublishError({ backend: "kafka", code: "PUBLISH_TIMEOUT", message: "[kafka] t" });
    expect(toEventsError(timeout, options, "x")).toBe(timeout);
  });

  it("anything else → PUBLISH_FAILED with the password redacted", () => {
    const error = toEventsError(new Error("odd pw-SECRET"), options, "publish failed");
    expect(error.code).toBe("PUBLISH_FAILED");
    expect(error.message).not.toContain("pw-SECRET");
  });
});
