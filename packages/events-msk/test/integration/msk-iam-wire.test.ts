// IAM mode on the wire, as far as a non-MSK broker lets it go. Real: the Apache Kafka broker's TLS
// listener (tooling/services/kafka.sh) — kafkajs opens TLS, verifies the broker's certificate against
// MSK_TLS_CA_FILE, and then starts SASL OAUTHBEARER. That listener has no SASL, so the broker refuses
// the handshake: AUTH_FAILED with MSK's hint. Tokens verified and sessions granted: the IAM listener
// (KAFKA_TEST_IAM_BROKERS), in msk-iam-conformance, -refused, -credentials-expiry and -reauth.

import { readFileSync } from "node:fs";
import { EventsError } from "@kaireon/events-core";
import { requireService, sampleDecision } from "@kaireon/events-testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { createMskPublisher, readMskOptions } from "../../src/index.js";
import { quiet } from "./helpers.js";

let tlsBrokers: string;
let caFile: string;

beforeAll(async () => {
  await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  tlsBrokers = process.env.KAFKA_TEST_TLS_BROKERS ?? "";
  caFile = process.env.KAFKA_TEST_TLS_CA_FILE ?? "";
  if (!tlsBrokers || !caFile)
    throw new Error("KAFKA_TEST_TLS_BROKERS/KAFKA_TEST_TLS_CA_FILE are not set: run through tooling/with-services.sh");
  expect(readFileSync(caFile, "utf8")).toContain("BEGIN CERTIFICATE");
});

function causes(error: unknown): string {
  const out: string[] = [];
  for (
    let e = error as { message?: string; cause?: unknown; originalError?: unknown } | undefined;
    e && out.length < 6;
    e = (e.originalError ?? e.cause) as never
  )
    out.push(String(e.message));
  return out.join(" <- ");
}

async function publishError(env: Record<string, string>) {
  let made = 0;
  const publisher = createMskPublisher(
    { ...readMskOptions(env), kafka: { publishTimeoutMs: 8000 } },
    {
      logger: quiet,
      token: { generate: async () => ({ token: `t${++made}`, expiryTime: Date.now() + 900_000 }) },
    },
  );
  try {
    const error = await publisher.publish("decision.made.v1", sampleDecision()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(EventsError.isInstance(error), String(error)).toBe(true);
    return { error: error as EventsError, ready: await publisher.ready() };
  } finally {
    await publisher.close();
  }
}

describe("msk iam_role against a real TLS listener", () => {
  it("TLS with the right CA, then SASL OAUTHBEARER, which this broker refuses: AUTH_FAILED naming the IAM checks", async () => {
    const { error, ready } = await publishError({ MSK_BROKERS: tlsBrokers, MSK_TLS_CA_FILE: caFile, MSK_REGION: "eu-west-1" });
    expect(error).toMatchObject({ code: "AUTH_FAILED", backend: "msk" });
    expect(error.message).toContain("SASL OAUTHBEARER authentication failed");
    expect(error.message).toContain("the broker refused IAM authentication");
    expect(error.message).toContain("kafka-cluster:Connect");
    expect(error.message).not.toMatch(/KAFKA_|MSK_SASL_MECHANISM/);
    // The shape the publisher keys "drop the refused token" on.
    expect(error.details?.mechanism).toBe("oauthbearer");
    // The broker answered the SASL handshake (after TLS) with ILLEGAL_SASL_STATE: no SASL on this listener.
    expect(causes(error)).toContain("Request is not valid given the current SASL state");
    expect(ready.ready).toBe(false);
    expect(ready.detail).toContain("kafka-cluster:Connect");
  });

  it("a certificate that does not verify never gets as far as SASL", async () => {
    const { error } = await publishError({ MSK_BROKERS: tlsBrokers, MSK_REGION: "eu-west-1" }); // system CAs only
    expect(error.code).not.toBe("AUTH_FAILED");
    expect(["CONNECTION_FAILED", "PUBLISH_FAILED", "PUBLISH_TIMEOUT"]).toContain(error.code);
  });
});
