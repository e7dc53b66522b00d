// Error mapping. The kafkajs error objects are built by hand here because a real broker cannot be
// made to produce each shape on demand; the real AUTH_FAILED path is covered by the integration test.

import { inspect } from "node:util";
import { ConnectionError, PublishError } from "@kaireon/events-core";
import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, TimeoutError, UserError } from "@platformatic/kafka";
import { describe, expect, it } from "vitest";
import { resolveKafkaOptions } from "../../src/index.js";
import { toEventsError } from "../../src/kafka-client.js";

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

  it("the cause chain is a redacted copy: name, type, code and retriable kept, the password and broker objects gone", () => {
    // kafkajs keeps what it was given on its errors (a socket error's address, a wrapped provider
    // error's text): a raw cause would carry them into every log that prints the error.
    const socket = Object.assign(new Error("connect ECONNREFUSED for pw-SECRET"), { code: "ECONNREFUSED", address: "10.0.0.1" });
    const inner = kafkaError("KafkaJSConnectionError", "Connection error: pw-SECRET", {
      retriable: true,
      broker: "b:9096",
      code: "ECONNREFUSED",
      cause: socket,
      sasl: { password: "pw-SECRET" },
    });
    const outer = kafkaError("KafkaJSNumberOfRetriesExceeded", "retries pw-SECRET", {
      retriable: false,
      originalError: inner,
      retryCount: 5,
    });
    const auth = kafkaError("KafkaJSSASLAuthenticationError", "SASL pw-SECRET", { type: "SASL_AUTHENTICATION_FAILED", retriable: false });
    for (const error of [
      toEventsError(outer, options, "publish failed"),
      toEventsError(auth, options, "x"),
      toEventsError(new Error("pw-SECRET"), options, "x"),
    ]) {
      expect(inspect(error, { depth: 20 })).not.toContain("pw-SECRET");
      expect(JSON.stringify(error)).not.toContain("pw-SECRET");
      for (let c: unknown = error.cause; c; c = (c as { cause?: unknown }).cause) {
        expect(inspect(c, { depth: 20 })).not.toContain("pw-SECRET");
        expect(JSON.stringify(c)).not.toContain("pw-SECRET");
        expect(String((c as Error).stack)).not.toContain("pw-SECRET");
      }
    }
    const copy = toEventsError(outer, options, "publish failed").cause as Error & Record<string, unknown>;
    expect(copy).toMatchObject({ name: "KafkaJSNumberOfRetriesExceeded", retriable: false });
    expect(copy.cause).toMatchObject({ name: "KafkaJSConnectionError", retriable: true, code: "ECONNREFUSED" });
    expect((copy.cause as Record<string, unknown>).sasl).toBeUndefined();
    expect(((copy.cause as { cause: Error }).cause as Error).message).toBe("connect ECONNREFUSED for ***");
    expect(toEventsError(auth, options, "x").cause).toMatchObject({
      name: "KafkaJSSASLAuthenticationError",
      type: "SASL_AUTHENTICATION_FAILED",
    });
  });
});

// The library's own error classes, shaped as it throws them after its retries (MultipleErrors, an
// AggregateError, over the attempts); the real paths run in the integration files with KAFKA_CLIENT=platformatic.
describe("@platformatic/kafka errors become the same coded errors", () => {
  it("a refused SASL password inside the retries' MultipleErrors → AUTH_FAILED, without the password", () => {
    const refused = new AuthenticationError("SASL authentication failed.", { cause: new Error("bad creds pw-SECRET") });
    const attempt = new NetworkError("Connection to b:9096 failed.", { cause: refused });
    const error = toEventsError(new MultipleErrors("initProducerId failed 5 times.", [attempt, attempt]), options, "publish failed");
    expect(error.code).toBe("AUTH_FAILED");
    expect(error.message).toContain("SCRAM-SHA-512");
    expect(inspect(error, { depth: 20, showHidden: true })).not.toContain("pw-SECRET");
  });

  it("keeps the broker's reason from the aggregate's last attempt as the cause (an IAM token's refusal)", () => {
    const said = new ProtocolError(
      "SASL_AUTHENTICATION_FAILED",
      "MSK IAM token refused: the token expired at 2026-12-01T12:00:00Z; pw-SECRET",
    );
    const refused = new AuthenticationError("SASL authentication failed.", { cause: said });
    const error = toEventsError(
      new MultipleErrors("initProducerId failed 5 times.", [new Error("first"), refused]),
      options,
      "publish failed",
    );
    expect(error.code).toBe("AUTH_FAILED");
    const chain: string[] = [];
    for (let e = error.cause as { message?: string; cause?: unknown } | undefined; e; e = e.cause as never) chain.push(String(e.message));
    expect(chain.join(" <- ")).toContain("MSK IAM token refused: the token expired at 2026-12-01T12:00:00Z");
    expect(inspect(error, { depth: 20, showHidden: true })).not.toContain("pw-SECRET");
  });

  it("a network error → CONNECTION_FAILED, with the reasons the aggregate hides", () => {
    const attempt = new NetworkError("Connection to b:9096 failed.", {
      cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    });
    const error = toEventsError(new MultipleErrors("produce failed 3 times.", [attempt]), options, "publish failed");
    expect(error.code).toBe("CONNECTION_FAILED");
    expect(error.message).toContain("produce failed 3 times.");
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("a timeout → CONNECTION_FAILED; anything else stays a PublishError", () => {
    expect(toEventsError(new TimeoutError("Request timed out."), options, "x").code).toBe("CONNECTION_FAILED");
    expect(toEventsError(new UserError("Failed to serialize a message."), options, "x")).toBeInstanceOf(PublishError);
  });
});
