// What kafkajs receives from resolved options. kafkajs is replaced by a recorder of its constructor
// config: the check is the configuration itself (no broker in a unit test; the listeners are covered
// for real in test/integration).

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

const { createKafkaPublisher, createKafkaSubscriber, resolveKafkaOptions } = await import("../../src/index.js");
const quiet = { logger: silentLogger };

beforeEach(() => {
  configs.length = 0;
});

describe("the kafkajs configuration", () => {
  it("passes reauthenticationThresholdMs as kafkajs' reauthenticationThreshold (publisher and subscriber)", async () => {
    const options = resolveKafkaOptions({ client: "kafkajs", brokers: ["b:9096"], reauthenticationThresholdMs: 60_000 });
    const publisher = createKafkaPublisher(options, quiet);
    const subscriber = createKafkaSubscriber(options, quiet);
    expect(configs).toHaveLength(2);
    for (const config of configs) expect(config.reauthenticationThreshold).toBe(60_000);
    await Promise.all([publisher.close(), subscriber.close()]);
  });

  it("leaves kafkajs' own default when unset", async () => {
    const publisher = createKafkaPublisher(resolveKafkaOptions({ client: "kafkajs", brokers: ["b:9092"] }), quiet);
    expect(configs.at(-1)).not.toHaveProperty("reauthenticationThreshold");
    await publisher.close();
  });
});
