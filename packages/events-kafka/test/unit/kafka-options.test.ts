// The KAFKA_* variables: defaults, every documented error, and no secret in any message.

import { configErrorOf } from "@kaireon/events-testkit";
import { describe, expect, it } from "vitest";
import { backend, DEFAULT_KAFKA_CLIENT, type KafkaOptions, kafkaOptionsFromEnv, resolveKafkaOptions } from "../../src/index.js";

const configError = (env: Record<string, string>) => configErrorOf(() => kafkaOptionsFromEnv(env));

describe("kafka options from the environment", () => {
  it("applies the spec's defaults", () => {
    const options = kafkaOptionsFromEnv({ KAFKA_BROKERS: "a:9092, b:9092" });
    expect(options).toMatchObject({
      brokers: ["a:9092", "b:9092"],
      clientId: "kaireon-platform",
      groupId: "kaireon-consumers",
      topicPrefix: "",
      compression: "none",
      publishTimeoutMs: 30_000,
    });
    expect(options.ssl).toBeUndefined();
    expect(options.sasl).toBeUndefined();
  });

  it("names KAFKA_BROKERS when it is missing", () => {
    const error = configError({});
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain("KAFKA_BROKERS");
    expect(error.message).toMatch(/^\[kafka\]/);
  });

  it("KAFKA_CLIENT picks the client library; unset is the default; a wrong one is a ConfigError listing both", () => {
    expect(kafkaOptionsFromEnv({ KAFKA_BROKERS: "a:9092" }).client).toBe(DEFAULT_KAFKA_CLIENT);
    expect(kafkaOptionsFromEnv({ KAFKA_BROKERS: "a:9092", KAFKA_CLIENT: "kafkajs" }).client).toBe("kafkajs");
    expect(kafkaOptionsFromEnv({ KAFKA_BROKERS: "a:9092", KAFKA_CLIENT: " Platformatic " }).client).toBe("platformatic");
    const error = configError({ KAFKA_BROKERS: "a:9092", KAFKA_CLIENT: "rdkafka" });
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain("KAFKA_CLIENT");
    for (const c of ["platformatic", "kafkajs"]) expect(error.message).toContain(c);
  });

  it("lists the valid SASL mechanisms for a wrong one", () => {
    const error = configError({
      KAFKA_BROKERS: "a:9092",
      KAFKA_SASL_MECHANISM: "gssapi",
      KAFKA_SASL_USERNAME: "u",
      KAFKA_SASL_PASSWORD: "p",
    });
    expect(error.message).toContain("KAFKA_SASL_MECHANISM");
    for (const m of ["plain", "scram-sha-256", "scram-sha-512"]) expect(error.message).toContain(m);
    expect(error.message).not.toContain("gssapi");
  });

  it("names the username and password when SASL is on without them", () => {
    const error = configError({ KAFKA_BROKERS: "a:9092", KAFKA_SASL_MECHANISM: "SCRAM-SHA-512" });
    expect(error.message).toContain("KAFKA_SASL_USERNAME");
    expect(error.message).toContain("KAFKA_SASL_PASSWORD");
    const onlyUser = configError({ KAFKA_BROKERS: "a:9092", KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u" });
    expect(onlyUser.message).toContain("KAFKA_SASL_PASSWORD");
    expect(onlyUser.message).not.toContain("KAFKA_SASL_USERNAME");
  });

  it("maps SASL, TLS, prefix, group, batching and compression", () => {
    const options = kafkaOptionsFromEnv({
      KAFKA_BROKERS: "a:9093",
      KAFKA_CLIENT_ID: "svc",
      KAFKA_TLS_ENABLED: "true",
      KAFKA_SASL_MECHANISM: "Scram-Sha-256",
      KAFKA_SASL_USERNAME: "user",
      KAFKA_SASL_PASSWORD: "s3cret",
      KAFKA_CONSUMER_GROUP_ID: "g",
      KAFKA_TOPIC_PREFIX: "prod.",
      KAFKA_BATCH_SIZE: "100",
      KAFKA_LINGER_MS: "10",
      KAFKA_PUBLISH_TIMEOUT_MS: "5000",
      KAFKA_COMPRESSION: "gzip",
    });
    expect(options).toMatchObject({
      clientId: "svc",
      ssl: true,
      sasl: { mechanism: "scram-sha-256", username: "user", password: "s3cret" },
      groupId: "g",
      topicPrefix: "prod.",
      batchSize: 100,
      lingerMs: 10,
      publishTimeoutMs: 5000,
      compression: "gzip",
    });
  });

  it("never echoes a value, and rejects bad numbers, booleans and compressions by name", () => {
    const error = configError({
      KAFKA_BROKERS: "a:9092",
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME: "u",
      KAFKA_SASL_PASSWORD: "hunter2-secret",
      KAFKA_TLS_ENABLED: "maybe",
      KAFKA_BATCH_SIZE: "0",
      KAFKA_COMPRESSION: "brotli",
    });
    expect(error.message).toContain("KAFKA_TLS_ENABLED");
    expect(error.message).toContain("KAFKA_BATCH_SIZE");
    expect(error.message).toContain("KAFKA_COMPRESSION");
    expect(error.message).not.toContain("hunter2-secret");
  });

  it("names KAFKA_TLS_CA_FILE when the file cannot be read", () => {
    const error = configError({ KAFKA_BROKERS: "a:9092", KAFKA_TLS_ENABLED: "true", KAFKA_TLS_CA_FILE: "/nonexistent/ca.pem" });
    expect(error.message).toContain("KAFKA_TLS_CA_FILE");
  });

  it("KAFKA_TLS_CA_FILE without KAFKA_TLS_ENABLED=true is a config error naming both and the fix (not silently ignored)", () => {
    for (const tls of [undefined, "false"]) {
      const env: Record<string, string> = { KAFKA_BROKERS: "a:9092", KAFKA_TLS_CA_FILE: "/etc/kafka/ca.pem" };
      if (tls) env.KAFKA_TLS_ENABLED = tls;
      const error = configError(env);
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.message).toMatch(/KAFKA_TLS_CA_FILE: .*KAFKA_TLS_ENABLED/);
      expect(error.message).toContain("set KAFKA_TLS_ENABLED=true");
      expect(error.details?.variables).toEqual(["KAFKA_TLS_CA_FILE"]);
    }
  });

  it("is the kafka backend of the loader", () => {
    expect(backend.id).toBe("kafka");
    expect(() => backend.fromEnv({})).toThrow(/KAFKA_BROKERS/);
  });
});

describe("kafka backend descriptor", () => {
  it("creates a publisher and subscriber without connecting (connections are lazy), and closes them", async () => {
    const options = backend.fromEnv({ KAFKA_BROKERS: "127.0.0.1:1" }) as KafkaOptions;
    const context = { source: "unit", logger: { debug() {}, info() {}, warn() {}, error() {} }, requested: "redpanda" };
    const publisher = backend.createPublisher(options, context);
    const subscriber = backend.createSubscriber(options, context);
    expect(publisher.backend).toBe("kafka");
    expect(publisher.metrics()).toMatchObject({ published: 0, pending: 0 });
    await publisher.close();
    await subscriber.close();
    await expect(subscriber.subscribe(["decision.made.v1"], () => {})).rejects.toMatchObject({ code: "SUBSCRIBER_CLOSED" });
  });
});

describe("SASL PLAIN without TLS", () => {
  function capture() {
    const warnings: string[] = [];
    return { warnings, logger: { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) } };
  }

  it("warns once (the password travels in clear), naming KAFKA_SASL_MECHANISM and KAFKA_TLS_ENABLED", async () => {
    const { warnings, logger } = capture();
    const env = {
      KAFKA_BROKERS: "127.0.0.1:1",
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME: "u",
      KAFKA_SASL_PASSWORD: "pw-SECRET-plain",
    };
    const options = kafkaOptionsFromEnv(env);
    const context = { source: "unit", logger, requested: "kafka" };
    const clients = [
      backend.createPublisher(options, context),
      backend.createSubscriber(options, context),
      backend.createPublisher(options, context),
    ];
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("KAFKA_SASL_MECHANISM=plain");
    expect(warnings[0]).toContain("KAFKA_TLS_ENABLED=true");
    expect(warnings[0]).not.toContain("pw-SECRET-plain");
    for (const c of clients) await c.close();
  });

  it("does not warn with TLS, or for SCRAM (no password on the wire)", async () => {
    const { warnings, logger } = capture();
    const context = { source: "unit", logger, requested: "kafka" };
    const tls = kafkaOptionsFromEnv({
      KAFKA_BROKERS: "127.0.0.1:2",
      KAFKA_TLS_ENABLED: "true",
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME: "u",
      KAFKA_SASL_PASSWORD: "p",
    });
    const scram = kafkaOptionsFromEnv({
      KAFKA_BROKERS: "127.0.0.1:3",
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: "u",
      KAFKA_SASL_PASSWORD: "p",
    });
    const clients = [backend.createPublisher(tls, context), backend.createSubscriber(scram, context)];
    expect(warnings).toEqual([]);
    for (const c of clients) await c.close();
  });

  it("resolveKafkaOptions (code) and the environment get the same defaults, from the one schema", () => {
    expect(resolveKafkaOptions({ brokers: ["a:1", "b:2"] })).toEqual(kafkaOptionsFromEnv({ KAFKA_BROKERS: "a:1,b:2" }));
    // The retry budget follows the publish bound it is given, as from the environment.
    expect(resolveKafkaOptions({ brokers: ["a:1"], publishTimeoutMs: 10_000 })).toEqual(
      kafkaOptionsFromEnv({ KAFKA_BROKERS: "a:1", KAFKA_PUBLISH_TIMEOUT_MS: "10000" }),
    );
  });
});
