// The MSK environment for the real Apache Kafka broker of tooling/services/kafka.sh. Its SCRAM-SHA-512
// user lives on a SASL_PLAINTEXT listener, so SCRAM runs without TLS here (MSK_TLS_ENABLED=false),
// while a real MSK cluster always adds TLS (port 9096). When the broker script also offers a SASL_SSL
// listener (KAFKA_TEST_SASL_TLS_BROKERS, signed by KAFKA_TEST_TLS_CA_FILE), SCRAM runs over TLS as on MSK.

import { requireService, silentLogger, uniqueName } from "@kaireon/events-testkit";

function need(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run through tooling/with-services.sh (KAIREON_SERVICES=kafka,moto), which starts the broker`);
  return value;
}

/** A topic prefix no other test file or run uses. */
export function uniquePrefix(name: string): string {
  return `${uniqueName(`test-msk-${name}`)}.`;
}

/** What an operator would put in the environment for MSK in SCRAM mode, pointed at the test broker. */
export async function scramEnv(topicPrefix: string): Promise<Record<string, string>> {
  await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  const tlsBrokers = process.env.KAFKA_TEST_SASL_TLS_BROKERS;
  const transport: Record<string, string> = tlsBrokers
    ? { MSK_BROKERS: tlsBrokers, MSK_TLS_ENABLED: "true", MSK_TLS_CA_FILE: need("KAFKA_TEST_TLS_CA_FILE") }
    : { MSK_BROKERS: need("KAFKA_TEST_SASL_BROKERS"), MSK_TLS_ENABLED: "false" };
  return {
    EVENT_PUBLISHER: "aws_msk",
    ...transport,
    MSK_AUTH_MODE: "sasl_scram",
    MSK_SASL_USERNAME: need("KAFKA_TEST_SCRAM_USERNAME"),
    MSK_SASL_PASSWORD: need("KAFKA_TEST_SCRAM_PASSWORD"),
    MSK_TOPIC_PREFIX: topicPrefix,
    MSK_REGION: "eu-west-1",
  };
}

export const quiet = silentLogger;

/** `SCRAM-SHA-512 over TLS` or `SCRAM-SHA-512 without TLS`, for test titles. */
export function scramTransport(): string {
  return process.env.KAFKA_TEST_SASL_TLS_BROKERS
    ? "SCRAM-SHA-512 over TLS"
    : "SCRAM-SHA-512 without TLS (the broker's SASL_PLAINTEXT listener)";
}
