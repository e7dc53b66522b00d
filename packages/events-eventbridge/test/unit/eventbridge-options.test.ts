import { ConfigError } from "@kaireon/events-core";
import { configErrorOf } from "@kaireon/events-testkit";
import { describe, expect, it } from "vitest";
import { backend, eventBridgeOptions, eventBridgeOptionsFromEnv } from "../../src/index.js";

const configError = (env: Record<string, string>) => configErrorOf(() => eventBridgeOptionsFromEnv(env));

describe("eventBridgeOptionsFromEnv", () => {
  it("has defaults: bus `default`, Source from the envelope, 256 KB entries", () => {
    expect(eventBridgeOptionsFromEnv({})).toMatchObject({
      bus: "default",
      entrySource: undefined,
      maxEntryBytes: 262_144,
      maxAttempts: 4,
      region: undefined,
      endpoint: undefined,
      malformed: "leave",
      waitTimeSeconds: 20,
    });
  });

  it("accepts a bus name or ARN, and 1 MB entries", () => {
    const arn = "arn:aws:events:eu-west-1:123456789012:event-bus/orders";
    expect(eventBridgeOptionsFromEnv({ EVENTBRIDGE_BUS: arn, EVENTBRIDGE_MAX_ENTRY_BYTES: "1048576" })).toMatchObject({
      bus: arn,
      maxEntryBytes: 1_048_576,
    });
    expect(configError({ EVENTBRIDGE_BUS: "no spaces allowed" }).message).toContain("EVENTBRIDGE_BUS");
    expect(configError({ EVENTBRIDGE_MAX_ENTRY_BYTES: "2000000" }).message).toContain("EVENTBRIDGE_MAX_ENTRY_BYTES");
  });

  it("refuses an `aws.` Source, set directly or inherited from EVENT_SOURCE", () => {
    const direct = configError({ EVENTBRIDGE_SOURCE: "aws.kaireon" });
    expect(direct).toBeInstanceOf(ConfigError);
    expect(direct.code).toBe("CONFIG_INVALID");
    expect(direct.message).toMatch(/^\[eventbridge\] .*EVENTBRIDGE_SOURCE: must not start with `aws.`/);
    expect(configError({ EVENT_SOURCE: "AWS.platform" }).message).toContain("EVENTBRIDGE_SOURCE");
    expect(eventBridgeOptionsFromEnv({ EVENT_SOURCE: "aws.platform", EVENTBRIDGE_SOURCE: "kaireon" }).entrySource).toBe("kaireon");
  });

  it("takes the endpoint from EVENTBRIDGE_ENDPOINT_URL, then the SDK's AWS_ENDPOINT_URL_EVENTBRIDGE / AWS_ENDPOINT_URL", () => {
    expect(eventBridgeOptionsFromEnv({ AWS_ENDPOINT_URL: "http://127.0.0.1:5000" })).toMatchObject({
      endpoint: "http://127.0.0.1:5000",
      sqsEndpoint: "http://127.0.0.1:5000",
    });
    expect(
      eventBridgeOptionsFromEnv({
        AWS_ENDPOINT_URL: "http://a:1",
        AWS_ENDPOINT_URL_EVENTBRIDGE: "http://b:2",
        EVENTBRIDGE_ENDPOINT_URL: "http://c:3",
      }).endpoint,
    ).toBe("http://c:3");
    expect(eventBridgeOptionsFromEnv({ AWS_DEFAULT_REGION: "eu-central-1" }).region).toBe("eu-central-1");
    expect(configError({ EVENTBRIDGE_ENDPOINT_URL: "localhost:5000" }).message).toContain("EVENTBRIDGE_ENDPOINT_URL");
  });

  it("never echoes a value in its errors", () => {
    const error = configError({ EVENTBRIDGE_MAX_ATTEMPTS: "s3cr3t-looking-value" });
    expect(error.message).toContain("EVENTBRIDGE_MAX_ATTEMPTS");
    expect(error.message).not.toContain("s3cr3t");
  });

  it("eventBridgeOptions: an undefined override keeps the default; an aws. source is refused", () => {
    expect(eventBridgeOptions({ bus: undefined, maxAttempts: 2 })).toMatchObject({ bus: "default", maxAttempts: 2 });
    expect(() => eventBridgeOptions({ source: "aws.events" })).toThrow(/aws\./);
  });

  it("is what the loader gets: backend id eventbridge", () => {
    expect(backend.id).toBe("eventbridge");
    expect(backend.fromEnv({ EVENTBRIDGE_BUS: "orders" })?.bus).toBe("orders");
  });
});
