import { configErrorOf } from "@kaireon/events-testkit";
import { describe, expect, it } from "vitest";
import { toKafkaOptions } from "../../src/msk-client.js";
import { mskOptions, readMskOptions } from "../../src/msk-options.js";

const brokers = "b-1.demo.kafka.eu-west-1.amazonaws.com:9098,b-2.demo.kafka.eu-west-1.amazonaws.com:9098";

const configError = (env: Record<string, string>) => configErrorOf(() => readMskOptions(env));

describe("readMskOptions", () => {
  it("defaults: IAM with the default credential chain, us-east-1, TLS, no prefix", () => {
    expect(readMskOptions({ MSK_BROKERS: brokers })).toEqual({
      brokers: brokers.split(","),
      region: "us-east-1",
      auth: { mode: "iam_role" },
      consumerGroupId: "kaireon-consumers",
      topicPrefix: "",
      tls: { enabled: true },
    });
  });

  it("reads every variable of the spec's table", () => {
    const options = readMskOptions({
      MSK_BROKERS: brokers,
      MSK_REGION: "eu-west-1",
      MSK_AUTH_MODE: "iam_role",
      MSK_ROLE_ARN: "arn:aws:iam::123456789012:role/teams/kaireon-publisher",
      MSK_CONSUMER_GROUP_ID: "analytics",
      MSK_TOPIC_PREFIX: "prod.",
    });
    expect(options).toMatchObject({
      region: "eu-west-1",
      auth: { mode: "iam_role", roleArn: "arn:aws:iam::123456789012:role/teams/kaireon-publisher" },
      consumerGroupId: "analytics",
      topicPrefix: "prod.",
    });
  });

  it("SCRAM mode needs the username and password, and never echoes the password", () => {
    const error = configError({ MSK_BROKERS: brokers, MSK_AUTH_MODE: "sasl_scram", MSK_SASL_USERNAME: "alice" });
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toContain("MSK_SASL_PASSWORD: is required when MSK_AUTH_MODE=sasl_scram");
    expect(error.message).not.toContain("MSK_SASL_USERNAME:");
    const ok = readMskOptions({
      MSK_BROKERS: brokers,
      MSK_AUTH_MODE: "SASL_SCRAM",
      MSK_SASL_USERNAME: "alice",
      MSK_SASL_PASSWORD: "s3cr3t-pw",
    });
    expect(ok.auth).toEqual({ mode: "sasl_scram", username: "alice", password: "s3cr3t-pw" });
    const bad = configError({ MSK_BROKERS: brokers, MSK_AUTH_MODE: "sasl_scram", MSK_SASL_PASSWORD: "s3cr3t-pw", MSK_REGION: "nowhere" });
    expect(bad.message).not.toContain("s3cr3t-pw");
  });

  it("names every problem at once", () => {
    const error = configError({ MSK_AUTH_MODE: "sasl_scram", MSK_TLS_ENABLED: "maybe" });
    expect(error.message).toContain("MSK_BROKERS: is required");
    expect(error.message).toContain("MSK_SASL_USERNAME: is required");
    expect(error.message).toContain("MSK_SASL_PASSWORD: is required");
    expect(error.message).toContain("MSK_TLS_ENABLED: must be true or false");
    expect(error.details?.variables).toEqual(["MSK_BROKERS", "MSK_TLS_ENABLED", "MSK_SASL_USERNAME", "MSK_SASL_PASSWORD"]);
  });

  it("MSK_TLS_CA_FILE with MSK_TLS_ENABLED=false is a config error naming both and the fix (not silently ignored)", () => {
    const error = configError({
      MSK_BROKERS: brokers,
      MSK_AUTH_MODE: "sasl_scram",
      MSK_SASL_USERNAME: "u",
      MSK_SASL_PASSWORD: "p-secret",
      MSK_TLS_ENABLED: "false",
      MSK_TLS_CA_FILE: "/etc/ca.pem",
    });
    expect(error.message).toMatch(/MSK_TLS_CA_FILE: .*MSK_TLS_ENABLED=false/);
    expect(error.message).toContain("unset MSK_TLS_CA_FILE");
    expect(error.message).not.toContain("p-secret");
    expect(error.details?.variables).toEqual(["MSK_TLS_CA_FILE"]);
  });

  it("an unknown MSK_AUTH_MODE is a config error listing both modes", () => {
    const error = configError({ MSK_BROKERS: brokers, MSK_AUTH_MODE: "sasl_plain" });
    expect(error.message).toContain("MSK_AUTH_MODE: must be one of: iam_role, sasl_scram");
    expect(error.message).toMatch(/^\[msk\] /);
  });

  it("MSK_BROKERS is required, and says what to put there", () => {
    expect(configError({}).message).toContain("MSK_BROKERS: is required — set it to the cluster's bootstrap brokers");
  });

  it("checks MSK_REGION and MSK_ROLE_ARN", () => {
    expect(configError({ MSK_BROKERS: brokers, MSK_REGION: "Ireland" }).message).toContain("MSK_REGION: must be an AWS region");
    expect(configError({ MSK_BROKERS: brokers, MSK_ROLE_ARN: "kaireon-publisher" }).message).toContain(
      "MSK_ROLE_ARN: must be an IAM role ARN",
    );
  });

  it("IAM mode refuses plaintext: the bearer token only travels over TLS", () => {
    expect(configError({ MSK_BROKERS: brokers, MSK_TLS_ENABLED: "false" }).message).toContain("MSK_TLS_ENABLED: cannot be false");
    const local = readMskOptions({
      MSK_BROKERS: "127.0.0.1:9092",
      MSK_AUTH_MODE: "sasl_scram",
      MSK_SASL_USERNAME: "u",
      MSK_SASL_PASSWORD: "p",
      MSK_TLS_ENABLED: "false",
    });
    expect(local.tls).toEqual({ enabled: false });
  });
});

describe("mskOptions (options built in code)", () => {
  it("has the environment schema's defaults: only the brokers are needed", () => {
    expect(mskOptions({ brokers: brokers.split(",") })).toEqual(readMskOptions({ MSK_BROKERS: brokers }));
  });

  it("lays what code gives over them, Kafka's batching and timeouts included", () => {
    const options = mskOptions({
      brokers: ["b-1:9096"],
      auth: { mode: "sasl_scram", username: "u", password: "p" },
      topicPrefix: "prod.",
      region: undefined, // undefined keeps the default
      kafka: { publishTimeoutMs: 5000, batchSize: 10 },
    });
    expect(options).toMatchObject({ region: "us-east-1", topicPrefix: "prod.", auth: { mode: "sasl_scram" } });
    expect(toKafkaOptions(options).kafka).toMatchObject({ backend: "msk", publishTimeoutMs: 5000, batchSize: 10, topicPrefix: "prod." });
  });
});
