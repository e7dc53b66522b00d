// What kafkajs receives. kafkajs is replaced by a recorder of its constructor config here: no MSK
// exists to connect to, and what is checked is the configuration itself (SASL OAUTHBEARER with our
// token provider, TLS on; SCRAM-SHA-512 with TLS). The real wire path — TLS handshake and SASL with a
// real broker — is in test/integration (SCRAM) and msk-iam-wire.test.ts (IAM up to the broker's answer).

import { silentLogger } from "@kaireon/events-testkit";
import type { KafkaConfig } from "kafkajs";
import { beforeEach, describe, expect, it, vi } from "vitest";

const configs: KafkaConfig[] = [];
vi.mock("kafkajs", async (importOriginal) => {
  const real = await importOriginal<typeof import("kafkajs")>();
  class RecordingKafka extends real.Kafka {
    constructor(config: KafkaConfig) {
      super(config);
      configs.push(config);
    }
  }
  return { ...real, Kafka: RecordingKafka };
});

const { backend, createMskPublisher, createMskSubscriber, readMskOptions } = await import("../../src/index.js");
const quiet = silentLogger;
const context = { source: "test", logger: quiet, requested: "aws_msk" };

beforeEach(() => {
  configs.length = 0;
});

describe("the kafkajs configuration of MSK", () => {
  it("IAM mode: SASL OAUTHBEARER whose provider hands out our cached token, over TLS", async () => {
    const clock = { now: 1_000 };
    let made = 0;
    const options = readMskOptions({ MSK_BROKERS: "b-1.demo.kafka.us-west-2.amazonaws.com:9098", MSK_REGION: "us-west-2" });
    const publisher = createMskPublisher(options, {
      logger: quiet,
      token: {
        now: () => clock.now,
        generate: async ({ region }) => ({ token: `token-${region}-${++made}`, expiryTime: clock.now + 900_000 }),
      },
    });
    const config = configs.at(-1) as KafkaConfig;
    expect(config.brokers).toEqual(["b-1.demo.kafka.us-west-2.amazonaws.com:9098"]);
    expect(config.ssl).toBe(true);
    expect(config.sasl?.mechanism).toBe("oauthbearer");
    const provider = (config.sasl as { oauthBearerProvider: () => Promise<{ value: string }> }).oauthBearerProvider;
    expect(await provider()).toEqual({ value: "token-us-west-2-1" });
    expect(await provider()).toEqual({ value: "token-us-west-2-1" });
    clock.now += 13 * 60_000;
    // Due for refresh but still valid (2 min left): served at once while the new one is signed.
    expect(await provider()).toEqual({ value: "token-us-west-2-1" });
    await vi.waitFor(async () => expect(await provider()).toEqual({ value: "token-us-west-2-2" }));
    expect(made).toBe(2);
    expect(publisher.backend).toBe("msk");
    await publisher.close();
  });

  it("a publisher alive for 3 days of fake time hands kafkajs only fresh tokens, made before the old ones expire", async () => {
    const clock = { now: Date.UTC(2026, 5, 1) };
    const issued: Array<{ at: number; expiryTime: number }> = [];
    let credentialsExpire = 0;
    const publisher = createMskPublisher(readMskOptions({ MSK_BROKERS: "b-1:9098", MSK_ROLE_ARN: "arn:aws:iam::123456789012:role/p" }), {
      logger: quiet,
      token: {
        now: () => clock.now,
        // Role credentials last 1 h and are renewed 5 min before they expire (as the SDK's providers
        // do); the signer caps the token at 15 min and at the credentials' expiry.
        generate: async ({ roleArn }) => {
          expect(roleArn).toBe("arn:aws:iam::123456789012:role/p");
          if (credentialsExpire - clock.now < 300_000) credentialsExpire = clock.now + 3_600_000;
          const expiryTime = Math.min(clock.now + 900_000, credentialsExpire);
          issued.push({ at: clock.now, expiryTime });
          return { token: `t${issued.length}:${expiryTime}`, expiryTime };
        },
      },
    });
    const provider = ((configs.at(-1) as KafkaConfig).sasl as { oauthBearerProvider: () => Promise<{ value: string }> })
      .oauthBearerProvider;
    const end = clock.now + 3 * 24 * 3_600_000;
    let calls = 0;
    while (clock.now < end && calls < 50_000) {
      const { value } = await provider(); // what kafkajs does on every (re)authentication
      calls++;
      const expiry = Number(value.split(":")[1]);
      expect(expiry - clock.now).toBeGreaterThanOrEqual(10_000);
      clock.now += 37_000; // connections (re)authenticating all the time
    }
    // One token per ~12 min (refreshed 3 min before the 15 min expiry), more around the hourly credential change.
    expect(issued.length).toBeGreaterThan((3 * 24 * 60) / 15);
    expect(issued.length).toBeLessThan(calls / 5);
    for (let i = 1; i < issued.length; i++) expect(issued[i]?.at).toBeLessThan(issued[i - 1]?.expiryTime as number);
    await publisher.close();
  });

  it("SCRAM mode: SASL SCRAM-SHA-512 over TLS; the descriptor maps EVENT_PUBLISHER=aws_msk env to it", async () => {
    const env = {
      MSK_BROKERS: "b-1.demo.kafka.eu-west-1.amazonaws.com:9096,b-2.demo.kafka.eu-west-1.amazonaws.com:9096",
      MSK_AUTH_MODE: "sasl_scram",
      MSK_SASL_USERNAME: "kaireon",
      MSK_SASL_PASSWORD: "pw-from-secrets-manager",
      MSK_TOPIC_PREFIX: "prod.",
    };
    const subscriber = backend.createSubscriber(backend.fromEnv(env) as never, context);
    const config = configs.at(-1) as KafkaConfig;
    expect(config.ssl).toBe(true);
    expect(config.sasl).toEqual({ mechanism: "scram-sha-512", username: "kaireon", password: "pw-from-secrets-manager" });
    expect(config.brokers).toHaveLength(2);
    expect(subscriber.backend).toBe("msk");
    await subscriber.close();
  });

  it("a token the brokers refused is dropped: the next authentication signs a new one", async () => {
    const { ConnectionError } = await import("@kaireon/events-core");
    let made = 0;
    const publisher = createMskPublisher(readMskOptions({ MSK_BROKERS: "b-1:9098" }), {
      logger: quiet,
      token: { generate: async () => ({ token: `t${++made}`, expiryTime: Date.now() + 900_000 }) },
    });
    const provider = publisher.tokenProvider as NonNullable<typeof publisher.tokenProvider>;
    expect((await provider.token()).value).toBe("t1");
    // What the Kafka layer reports when the SASL exchange is refused (as in msk-iam-wire.test.ts).
    const refused = new ConnectionError({
      backend: "msk",
      code: "AUTH_FAILED",
      message: "[msk] SASL OAUTHBEARER authentication failed at b-1:9098 — the broker refused IAM authentication: …",
      details: { mechanism: "oauthbearer", brokers: ["b-1:9098"] },
    });
    const fail = (e: unknown) => (publisher as unknown as { fail(e: unknown): unknown }).fail(e);
    expect(fail(refused)).toBe(refused);
    expect((await provider.token()).value).toBe("t2");
    // The provider's own failure (signing) passes through as it is and drops nothing.
    const signing = new ConnectionError({ backend: "msk", code: "AUTH_FAILED", message: "[msk] could not sign an IAM auth token: x" });
    expect(fail(signing)).toBe(signing);
    expect((await provider.token()).value).toBe("t2");
    await publisher.close();
  });

  it("the subscriber drops a refused token too: subscribe, a consumer crash and a resubscribe all map their errors through toError", async () => {
    let made = 0;
    const subscriber = createMskSubscriber(readMskOptions({ MSK_BROKERS: "b-1:9098" }), {
      logger: quiet,
      token: { generate: async () => ({ token: `t${++made}`, expiryTime: Date.now() + 900_000 }) },
    });
    const provider = subscriber.tokenProvider as NonNullable<typeof subscriber.tokenProvider>;
    expect((await provider.token()).value).toBe("t1");
    // The kafkajs error a refused SASL exchange raises (built by hand: no broker validates IAM tokens here).
    const sasl = Object.assign(new Error("SASL OAUTHBEARER authentication failed: denied"), { name: "KafkaJSSASLAuthenticationError" });
    const toError = (e: unknown) => (subscriber as unknown as { toError(e: unknown, what: string): { code: string } }).toError(e, "x");
    expect(toError(sasl).code).toBe("AUTH_FAILED");
    expect((await provider.token()).value).toBe("t2");
    await subscriber.close();
  });

  it("the Kafka options carry MSK's error hints: MSK variables only, per mode", async () => {
    const { toKafkaOptions } = await import("../../src/index.js");
    const iam = toKafkaOptions(readMskOptions({ MSK_BROKERS: "b-1:9098", MSK_ROLE_ARN: "arn:aws:iam::123456789012:role/p" }), {
      logger: quiet,
    }).kafka;
    expect(iam.backend).toBe("msk");
    expect(iam.hints?.auth).toContain("the role MSK_ROLE_ARN may kafka-cluster:Connect");
    expect(iam.hints?.connection).toContain("MSK_BROKERS (the IAM brokers, port 9098)");
    const scram = toKafkaOptions(
      readMskOptions({ MSK_BROKERS: "b-1:9096", MSK_AUTH_MODE: "sasl_scram", MSK_SASL_USERNAME: "u", MSK_SASL_PASSWORD: "pw-SECRET" }),
    ).kafka;
    expect(scram.hints?.auth).toContain("check MSK_SASL_USERNAME and MSK_SASL_PASSWORD");
    for (const hint of [iam.hints?.auth, iam.hints?.connection, scram.hints?.auth, scram.hints?.connection]) {
      expect(hint).not.toMatch(/KAFKA_|MSK_SASL_MECHANISM|pw-SECRET/);
    }
    // Callers' extra Kafka options cannot replace them.
    const extra = { hints: { auth: "check KAFKA_SASL_PASSWORD" } } as unknown as Parameters<typeof toKafkaOptions>[1];
    expect(toKafkaOptions(readMskOptions({ MSK_BROKERS: "b-1:9098" }), { ...extra, logger: quiet }).kafka.hints?.auth).toContain(
      "kafka-cluster:Connect",
    );
  });

  it("a subscriber has its own provider; one can be shared", async () => {
    const options = readMskOptions({ MSK_BROKERS: "b-1:9098" });
    const a = createMskSubscriber(options, { logger: quiet });
    const b = createMskPublisher(options, { logger: quiet, ...(a.tokenProvider ? { tokenProvider: a.tokenProvider } : {}) });
    expect(a.tokenProvider).toBeDefined();
    expect(b.tokenProvider).toBe(a.tokenProvider);
    const [ca, cb] = configs as [KafkaConfig, KafkaConfig];
    expect((ca.sasl as { oauthBearerProvider: unknown }).oauthBearerProvider).toBe(
      (cb.sasl as { oauthBearerProvider: unknown }).oauthBearerProvider,
    );
    await Promise.all([a.close(), b.close()]);
  });
});
