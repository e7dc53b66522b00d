// Configuration from the environment: defaults, validation messages that name the variable, and the
// password never echoed. Nothing running is needed.
import { ConfigError, loadPublisher, silentLogger } from "@kaireon/events-core";
import { configErrorOf } from "@kaireon/events-testkit";
import { describe, expect, it } from "vitest";
import { backend, groupStartId, parseRedisEnv, redisOptions, redisOptionsFromEnv, resolveRedisConfig } from "../../src/index.js";

describe("redis options", () => {
  it("REDIS_URL unset disables the stream (fromEnv → undefined) and says how to turn it on", () => {
    expect(backend.fromEnv({})).toBeUndefined();
    expect(backend.fromEnv({ REDIS_URL: "  " })).toBeUndefined();
    expect(backend.disabledReason).toContain("REDIS_URL");
    expect(() => parseRedisEnv({})).toThrow(ConfigError);
  });

  it("defaults: pub/sub, no prefix, bounded queue and timeout", () => {
    expect(redisOptionsFromEnv({ REDIS_URL: "redis://127.0.0.1:6379" })).toEqual({
      url: "redis://127.0.0.1:6379",
      mode: "pubsub",
      sendMode: "script",
      scriptSize: 100,
      prefix: "",
      streamMaxLen: 100_000,
      publishTimeoutMs: 5_000,
      maxPending: 10_000,
      pipelineSize: 1_000,
      connectTimeoutMs: 10_000,
      consumerGroup: "kaireon-consumers",
      consumerName: undefined,
      claimIdleMs: 60_000,
    });
  });

  it("reads every variable", () => {
    const options = redisOptionsFromEnv({
      REDIS_URL: "rediss://default:pw@cache.example.com:6380/2",
      REDIS_MODE: "Streams",
      REDIS_SEND_MODE: " Pipeline ",
      REDIS_SCRIPT_SIZE: "25",
      REDIS_CHANNEL_PREFIX: "prod:",
      REDIS_STREAM_MAXLEN: "5000",
      REDIS_PUBLISH_TIMEOUT_MS: "750",
      REDIS_MAX_PENDING: "100",
      REDIS_PIPELINE_SIZE: "50",
      REDIS_CONNECT_TIMEOUT_MS: "2000",
      REDIS_CONSUMER_GROUP: "analytics",
      REDIS_CONSUMER_NAME: "worker-1",
      REDIS_CLAIM_IDLE_MS: "10000",
    });
    expect(options).toMatchObject({
      mode: "streams",
      sendMode: "pipeline",
      scriptSize: 25,
      prefix: "prod:",
      streamMaxLen: 5000,
      publishTimeoutMs: 750,
      maxPending: 100,
      pipelineSize: 50,
      connectTimeoutMs: 2000,
      consumerGroup: "analytics",
      consumerName: "worker-1",
      claimIdleMs: 10000,
    });
  });

  it("names the bad variable, never echoes a URL that may hold a password", () => {
    const bad = (env: Record<string, string>) => configErrorOf(() => redisOptionsFromEnv(env)).message;
    const notUrl = bad({ REDIS_URL: "s3cr3t-pass@nohost" });
    expect(notUrl).toContain("REDIS_URL");
    expect(notUrl).not.toContain("s3cr3t");
    const wrongScheme = bad({ REDIS_URL: "http://u:s3cr3t@host:6379" });
    expect(wrongScheme).toContain("redis://");
    expect(wrongScheme).not.toContain("s3cr3t");
    expect(bad({ REDIS_URL: "redis://h", REDIS_MODE: "kafka" })).toContain("REDIS_MODE");
    const sendMode = bad({ REDIS_URL: "redis://h", REDIS_SEND_MODE: "lua" });
    expect(sendMode).toContain("REDIS_SEND_MODE");
    expect(sendMode).toMatch(/script.*pipeline/);
    expect(bad({ REDIS_URL: "redis://h", REDIS_SCRIPT_SIZE: "0" })).toContain("REDIS_SCRIPT_SIZE");
    expect(bad({ REDIS_URL: "redis://h", REDIS_MAX_PENDING: "0" })).toContain("REDIS_MAX_PENDING");
    expect(bad({ REDIS_URL: "redis://h", REDIS_PUBLISH_TIMEOUT_MS: "soon" })).toContain("REDIS_PUBLISH_TIMEOUT_MS");
  });

  it("the loader gives a disabled publisher without REDIS_URL; the application keeps working", async () => {
    const publisher = await loadPublisher({ EVENT_PUBLISHER: "redis" }, { logger: silentLogger });
    const result = await publisher.publish("decision.made.v1", {
      tenantId: "t",
      customerId: "c",
      recommendationId: "r",
      offersReturned: 1,
      topOfferId: null,
      topPropensity: null,
      decisionFlowKey: "f",
      timestamp: new Date().toISOString(),
    });
    expect(result.status).toBe("disabled");
    await publisher.close();
  });
});

describe("options in code", () => {
  it("fills the defaults around what was given; undefined keeps the default", () => {
    const options = resolveRedisConfig({ url: "redis://h:1", mode: "streams", maxPending: undefined });
    expect(options).toMatchObject({ url: "redis://h:1", mode: "streams", maxPending: 10_000, prefix: "" });
    expect(() => resolveRedisConfig({ url: "nope" })).toThrow(ConfigError);
  });
});

describe("streams: where a new group starts", () => {
  it("maps latest, earliest and a time onto stream ids (milliseconds)", () => {
    expect(groupStartId(undefined)).toBe("$");
    expect(groupStartId("latest")).toBe("$");
    expect(groupStartId("earliest")).toBe("0");
    const at = new Date("2026-01-02T03:04:05.678Z");
    // The group delivers ids greater than this: the first is the first entry of that millisecond.
    expect(groupStartId(at)).toBe(`${at.getTime() - 1}-18446744073709551615`);
    expect(groupStartId(new Date(0))).toBe("0");
    expect(() => groupStartId(new Date(Number.NaN))).toThrow(RangeError);
  });

  it("code and the environment get the same defaults, from the one schema", () => {
    const url = "redis://127.0.0.1:6379";
    expect(redisOptions(url)).toEqual(parseRedisEnv({ REDIS_URL: url }));
    expect(redisOptions(url, { mode: "streams", maxPending: undefined })).toEqual(parseRedisEnv({ REDIS_URL: url, REDIS_MODE: "streams" }));
    expect(() => redisOptions("")).toThrow(/REDIS_URL/);
  });
});
