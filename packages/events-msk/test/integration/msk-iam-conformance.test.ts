// The shared conformance suite for MSK in IAM mode (the default), through a broker that verifies the
// token: the IAM listener of tooling/services/kafka.sh, whose OAUTHBEARER validator
// (tooling/msk-iam-validator) recomputes each token's SigV4 signature with the AWS SDK for Java's signer,
// checks region, host, action and expiry, and gives the session the token's lifetime. Real: TLS,
// SASL OAUTHBEARER, the signature, produce/consume; with MSK_ROLE_ARN, moto's STS issuing the role
// session whose secret the validator reads from moto's state. Not real: MSK's IAM policy evaluation
// (any key the validator knows may do everything).

import { readFileSync } from "node:fs";
import { ensureTopics } from "@kaireon/events-kafka";
import { describePublisherConformance, requireService } from "@kaireon/events-testkit";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMskPublisher, createMskSubscriber, type MskOptions, readMskOptions, toKafkaOptions } from "../../src/index.js";
import { type IamListener, iamEnv, iamListener, mskClients, quiet, startStsRecorder, uniquePrefix, useIamTestKey } from "./helpers.js";

const ROLE_ARN = "arn:aws:iam::123456789012:role/kaireon-msk-conformance";
let iam: IamListener;
const raws: Producer[] = [];
let recorder: Awaited<ReturnType<typeof startStsRecorder>> | undefined;

beforeAll(async () => {
  iam = await iamListener();
  useIamTestKey(iam);
});
afterAll(async () => {
  await Promise.all(raws.map((p) => p.disconnect()));
  await recorder?.close();
});

/** Raw kafkajs on the same listener with the same token provider: writes what our publisher never would. */
function rawInjector(options: () => MskOptions) {
  let raw: Producer | undefined;
  return async (topic: string, text: string) => {
    if (!raw) {
      const { tokenProvider } = toKafkaOptions(options());
      raw = new Kafka({
        brokers: options().brokers,
        ssl: { ca: [readFileSync(iam.caFile, "utf8")] },
        clientId: "kaireon-test-raw",
        sasl: { mechanism: "oauthbearer", oauthBearerProvider: (tokenProvider as NonNullable<typeof tokenProvider>).oauthBearerProvider },
        logLevel: logLevel.NOTHING,
      }).producer();
      raws.push(raw);
      await raw.connect();
    }
    await raw.send({ topic: options().topicPrefix + topic, messages: [{ key: "raw", value: text }] });
  };
}

// One mode per client: the default chain on kafkajs, MSK_ROLE_ARN through moto's STS on platformatic.
// The mode changes only whose credentials the one token provider signs with (msk-iam-role.test.ts
// proves the role path itself); the client changes how the token reaches the broker. So each client
// runs the whole suite once, and each mode is verified by the broker once; the default chain on
// platformatic is also verified by the broker in msk-iam-credentials-expiry and msk-iam-refused.
// (Three whole runs before: 54 tests, 85 s of CI.)
const clients = await mskClients();
const byName = (name: string) => clients.find((c) => c.name === name) ?? (clients[0] as (typeof clients)[number]);
const chainClient = byName("kafkajs");
const roleClient = byName("platformatic");
const runs = [
  { mode: "default credential chain", client: chainClient.name, env: chainClient.env },
  { mode: "MSK_ROLE_ARN through the emulator's STS", client: roleClient.name, env: { ...roleClient.env, MSK_ROLE_ARN: ROLE_ARN } },
];

for (const { mode, client, env } of runs) {
  const prefix = uniquePrefix(mode === "default credential chain" ? "iamconf" : "iamroleconf");
  let options: MskOptions;
  const injectRaw = rawInjector(() => options);
  const setup = async () => {
    if (mode !== "default credential chain") {
      const emulator = await requireService({ variable: "AWS_ENDPOINT_URL", name: "AWS emulator (moto)" });
      // The signer's STS client goes through the recorder, which tells the validator what STS issued.
      recorder = await startStsRecorder(iam, emulator);
      process.env.AWS_ENDPOINT_URL_STS = recorder.endpoint;
    }
    options = readMskOptions(iamEnv(iam, prefix, env));
    await ensureTopics(toKafkaOptions(options).kafka, { partitions: 3, replicationFactor: 1, logger: quiet });
  };

  describe(`msk iam_role (${mode}, ${client}) against a broker that verifies the token`, () => {
    beforeAll(setup);

    it("authenticates with a verified token over TLS", async () => {
      const publisher = createMskPublisher(options, { logger: quiet });
      try {
        const ready = await publisher.ready();
        expect(ready).toMatchObject({ ready: true, backend: "msk" });
        expect(toKafkaOptions(options).kafka.sasl?.mechanism).toBe("oauthbearer");
        // With the role, the token was signed with credentials STS issued for it (and the validator knew them).
        if (recorder) expect(recorder.registered()).toBeGreaterThan(0);
      } finally {
        await publisher.close();
      }
    });

    describePublisherConformance({
      name: `msk iam_role, ${mode}, ${client}, SASL OAUTHBEARER over TLS, token verified by the broker`,
      createPublisher: () => createMskPublisher(options, { logger: quiet }),
      createQueueBoundPublisher: (maxQueued) =>
        createMskPublisher({ ...options, kafka: { ...options.kafka, maxQueued, batchSize: 4 } }, { logger: quiet }),
      createSubscriber: () => createMskSubscriber(options, { logger: quiet }),
      capabilities: { perKeyOrder: true, replay: true, replayFromTime: true, receivers: false },
      injectRaw,
      createUnreachablePublisher: () =>
        createMskPublisher({ ...options, brokers: ["127.0.0.1:1"], kafka: { publishTimeoutMs: 2000 } }, { logger: quiet }),
    });
  });
}
