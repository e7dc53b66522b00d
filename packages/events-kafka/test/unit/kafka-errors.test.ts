// Error mapping. The kafkajs error objects are built by hand here because a real broker cannot be
// made to produce each shape on demand; the real AUTH_FAILED path is covered by the integration test.

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

  it("connection refused → CONNECTION_FAILED naming the brokers; MSK gets its own variable names", () => {
    const refused = kafkaError("KafkaJSConnectionError", "Connection error: connect ECONNREFUSED");
    const error = toEventsError(refused, options, "publish failed");
    expect(error.code).toBe("CONNECTION_FAILED");
    expect(error.message).toContain("b:9096");
    const msk = toEventsError(kafkaError("KafkaJSSASLAuthenticationError", "no"), { ...options, backend: "msk" }, "x");
    expect(msk.message).toMatch(/^\[msk\]/);
    expect(msk.message).toContain("MSK_SASL_PASSWORD");
  });

  it("anything else → PUBLISH_FAILED with the password redacted", () => {
    const error = toEventsError(new Error("odd pw-SECRET"), options, "publish failed");
    expect(error.code).toBe("PUBLISH_FAILED");
    expect(error.message).not.toContain("pw-SECRET");
  });
});
