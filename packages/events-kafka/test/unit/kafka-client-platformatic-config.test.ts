// What @platformatic/kafka receives from resolved options. Its Producer and Consumer are replaced by
// recorders of their constructor options (no broker in a unit test; the listeners are covered for
// real in test/integration with both clients).

import { beforeEach, describe, expect, it, vi } from "vitest";

const made: Array<{ kind: string; options: Record<string, unknown> }> = [];
vi.mock("@platformatic/kafka", async (importOriginal) => {
  const real = await importOriginal<typeof import("@platformatic/kafka")>();
  class RecordingProducer extends real.Producer {
    constructor(options: any) {
      super(options);
      made.push({ kind: "producer", options: options as unknown as Record<string, unknown> });
    }
  }
  class RecordingConsumer extends real.Consumer {
    constructor(options: any) {
      super(options);
      made.push({ kind: "consumer", options: options as unknown as Record<string, unknown> });
    }
  }
  return { ...real, Producer: RecordingProducer, Consumer: RecordingConsumer };
});

const { javaPartitioner } = await import("../../src/kafka-client-platformatic.js");
const { createKafkaSubscriber, resolveKafkaOptions } = await import("../../src/index.js");
const { createKafkaClient } = await import("../../src/kafka-client.js");
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeEach(() => {
  made.length = 0;
});

describe("the @platformatic/kafka configuration", () => {
  it("producer: idempotent, acks=all, the Java-compatible partitioner, bounded retries", async () => {
    const options = resolveKafkaOptions({ client: "platformatic", brokers: ["b:9092"] });
    const producer = createKafkaClient(options, quiet).producer();
    const config = (made[0] as { options: Record<string, unknown> }).options;
    expect(config).toMatchObject({ idempotent: true, acks: -1, bootstrapBrokers: ["b:9092"] });
    expect(config.partitioner).toBe(javaPartitioner);
    expect(config.retries).toBeLessThan(100);
    await producer.disconnect();
  });

  it("OAUTHBEARER: the token is an async function that asks the provider each time (re-authentication included)", async () => {
    let asked = 0;
    const options = resolveKafkaOptions({
      client: "platformatic",
      brokers: ["b-1.msk.example:9098"],
      ssl: true,
      sasl: { mechanism: "oauthbearer", oauthBearerProvider: async () => ({ value: `token-${++asked}` }) },
    });
    const producer = createKafkaClient(options, quiet).producer();
    const config = (made[0] as { options: Record<string, unknown> }).options;
    const sasl = config.sasl as { mechanism: string; token: () => Promise<string> };
    expect(sasl.mechanism).toBe("OAUTHBEARER");
    expect(await sasl.token()).toBe("token-1");
    expect(await sasl.token()).toBe("token-2");
    // TLS with SNI for a host name (MSK).
    expect(config.tls).toEqual({});
    expect(config.tlsServerName).toBe(true);
    await producer.disconnect();
  });

  it("SCRAM and a private CA reach the consumer; no SNI for an IP address", async () => {
    const options = resolveKafkaOptions({
      client: "platformatic",
      brokers: ["127.0.0.1:9096"],
      ssl: { ca: ["PEM"] },
      sasl: { mechanism: "scram-sha-512", username: "u", password: "p" },
    });
    const subscriber = createKafkaSubscriber(options, { logger: quiet });
    createKafkaClient(options, quiet).consumer("g");
    const config = (made.find((m) => m.kind === "consumer") as { options: Record<string, unknown> }).options;
    expect(config).toMatchObject({
      groupId: "g",
      autocommit: false,
      tls: { ca: ["PEM"] },
      sasl: { mechanism: "SCRAM-SHA-512", username: "u" },
    });
    expect(config.tlsServerName).toBeUndefined();
    await subscriber.close();
  });

  it('is what a KafkaOptions without `client` gets; `client: "kafkajs"` makes none', async () => {
    const byDefault = createKafkaClient(resolveKafkaOptions({ brokers: ["b:9092"] }), quiet).producer();
    expect(made.map((m) => m.kind)).toEqual(["producer"]);
    await byDefault.disconnect();
    made.length = 0;
    const onKafkajs = createKafkaClient(resolveKafkaOptions({ client: "kafkajs", brokers: ["b:9092"] }), quiet).producer();
    await onKafkajs.disconnect();
    expect(made).toEqual([]);
  });
});
