// What kafkajs receives. kafkajs is replaced by a recorder of its constructor config here: no MSK
// exists to connect to, and what is checked is the configuration itself (SASL OAUTHBEARER with our
// token provider, TLS on; SCRAM-SHA-512 with TLS). The real wire path — TLS handshake and SASL with a
// real broker — is in test/integration (SCRAM) and msk-iam-wire.test.ts (IAM up to the broker's answer).
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
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
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
    expect(await provider()).toEqual({ value: "token-us-west-2-2" });
    expect(publisher.backend).toBe("msk");
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
