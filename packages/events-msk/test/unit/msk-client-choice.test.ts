// MSK_CLIENT: which Kafka client library MSK runs on, read like every MSK variable.

import { EventsError } from "@kaireon/events-core";
import { describe, expect, it } from "vitest";
import { DEFAULT_MSK_CLIENT, readMskOptions, toKafkaOptions } from "../../src/index.js";

const scram = { MSK_BROKERS: "b-1.example:9096", MSK_AUTH_MODE: "sasl_scram", MSK_SASL_USERNAME: "u", MSK_SASL_PASSWORD: "p" };

describe("MSK_CLIENT", () => {
  it("reaches the Kafka options; unset is MSK's default (kafkajs), also for options built in code", () => {
    expect(toKafkaOptions(readMskOptions({ ...scram, MSK_CLIENT: "platformatic" })).kafka.client).toBe("platformatic");
    expect(toKafkaOptions(readMskOptions({ ...scram, MSK_CLIENT: "kafkajs" })).kafka.client).toBe("kafkajs");
    expect(DEFAULT_MSK_CLIENT).toBe("kafkajs");
    expect(toKafkaOptions(readMskOptions(scram)).kafka.client).toBe(DEFAULT_MSK_CLIENT);
    const { client: _unset, ...inCode } = readMskOptions(scram);
    expect(toKafkaOptions(inCode).kafka.client).toBe(DEFAULT_MSK_CLIENT);
  });

  it("a wrong value is a ConfigError naming MSK_CLIENT and listing both clients", () => {
    let error: unknown;
    try {
      readMskOptions({ ...scram, MSK_CLIENT: "librdkafka" });
    } catch (e) {
      error = e;
    }
    expect(EventsError.isInstance(error)).toBe(true);
    expect((error as EventsError).code).toBe("CONFIG_INVALID");
    expect((error as Error).message).toContain("MSK_CLIENT");
    for (const c of ["platformatic", "kafkajs"]) expect((error as Error).message).toContain(c);
  });
});
