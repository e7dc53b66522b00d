import { describe, expect, it } from "vitest";
import { z } from "zod";
import { readCoreConfig } from "../../src/index.js";
import { envBoolean, envInt, envList, parseEnv, readConfigFile } from "../../src/kit.js";

describe("readCoreConfig", () => {
  it("defaults to redis and maps aliases to their backend", () => {
    expect(readCoreConfig({}).backend).toBe("redis");
    expect(readCoreConfig({ EVENT_PUBLISHER: "redpanda" })).toMatchObject({ backend: "kafka", requested: "redpanda" });
    expect(readCoreConfig({ EVENT_PUBLISHER: " AWS_MSK " }).backend).toBe("msk");
    expect(readCoreConfig({ EVENT_SOURCE: "billing" }).source).toBe("billing");
  });

  it("lists the valid values for an unknown one", () => {
    expect(() => readCoreConfig({ EVENT_PUBLISHER: "rabbitmq" })).toThrow(
      'EVENT_PUBLISHER="rabbitmq" is not a backend — set it to one of: redis, kafka, redpanda, msk, aws_msk, eventbridge, kinesis, memory',
    );
  });
});

describe("parseEnv", () => {
  const schema = z.object({
    KAFKA_BROKERS: envList({ required: true, hint: "set it to a comma-separated host:port list" }),
    KAFKA_TLS_ENABLED: envBoolean(false),
    KAFKA_LINGER_MS: envInt(5, 0, 1000),
    KAFKA_SASL_PASSWORD: z.string().optional(),
  });

  it("parses lists, booleans and numbers", () => {
    expect(parseEnv("kafka", schema, { KAFKA_BROKERS: "a:1, b:2,", KAFKA_TLS_ENABLED: "TRUE" })).toEqual({
      KAFKA_BROKERS: ["a:1", "b:2"],
      KAFKA_TLS_ENABLED: true,
      KAFKA_LINGER_MS: 5,
    });
  });

  it("names each bad variable and never echoes a value", () => {
    try {
      parseEnv("kafka", schema, { KAFKA_TLS_ENABLED: "maybe", KAFKA_LINGER_MS: "-1", KAFKA_SASL_PASSWORD: "hunter2" });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/^\[kafka\] invalid configuration/);
      expect(message).toContain("KAFKA_BROKERS: is required — set it to a comma-separated host:port list");
      expect(message).toContain("KAFKA_TLS_ENABLED: must be true or false");
      expect(message).toContain("KAFKA_LINGER_MS: must be a whole number between 0 and 1000");
      expect(message).not.toContain("maybe");
      expect(message).not.toContain("hunter2");
    }
  });
});

describe("readConfigFile", () => {
  it("reads the file, and names the variable, the path and the fix when it cannot", () => {
    const where = { backend: "kafka", variable: "KAFKA_TLS_CA_FILE", fix: "point it at a PEM file of your CA" };
    expect(readConfigFile(new URL(import.meta.url).pathname, where)).toContain("readConfigFile");
    expect(() => readConfigFile("/nonexistent/ca.pem", where)).toThrow(
      "[kafka] KAFKA_TLS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT) — point it at a PEM file of your CA",
    );
  });
});
