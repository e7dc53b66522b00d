// "Switching a working Kafka setup to MSK changes only environment variables": one application
// function (publish through loadPublisher, read through loadSubscriber) runs unchanged with a Kafka
// environment and with an MSK environment, against the same real broker (tooling/services/kafka.sh),
// and each side reads what the other published: same topics, same envelope, same subscriber code.

import { type DomainEvent, type Env, loadPublisher, loadSubscriber } from "@kaireon/events-core";
import { ensureTopics, kafkaOptionsFromEnv } from "@kaireon/events-kafka";
import { sampleDecision, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quiet, scramEnv, uniquePrefix } from "./helpers.js";

/** The application: it knows nothing about the backend. */
async function analyticsWorker(env: Env, tenantId: string) {
  const seen: DomainEvent[] = [];
  const subscriber = await loadSubscriber(env, { logger: quiet, resolveFrom: import.meta.url });
  const subscription = await subscriber.subscribe(
    ["decision.made.v1"],
    (event) => {
      if (event.tenantid === tenantId) seen.push(event);
    },
    { group: `analytics-${uniqueTenant()}` },
  );
  return {
    backend: subscriber.backend,
    seen,
    async waitFor(count: number) {
      for (let i = 0; i < 300 && seen.length < count; i++) await new Promise((r) => setTimeout(r, 100));
      return seen;
    },
    async close() {
      await subscription.close();
      await subscriber.close();
    },
  };
}

async function publishDecisions(env: Env, tenantId: string, n: number): Promise<string[]> {
  const publisher = await loadPublisher(env, { logger: quiet, resolveFrom: import.meta.url });
  try {
    const ids: string[] = [];
    for (let i = 0; i < n; i++)
      ids.push((await publisher.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: `r${i}` }))).id);
    return ids;
  } finally {
    await publisher.close();
  }
}

describe("the same application code on a Kafka and an MSK environment", () => {
  const prefix = uniquePrefix("switch");
  let kafkaEnv: Env;
  let mskEnv: Env;
  const workers: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    mskEnv = await scramEnv(prefix);
    // The Kafka setup the team had: same broker, same user, its own variables.
    kafkaEnv = {
      EVENT_PUBLISHER: "kafka",
      KAFKA_BROKERS: mskEnv.MSK_BROKERS,
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: mskEnv.MSK_SASL_USERNAME,
      KAFKA_SASL_PASSWORD: mskEnv.MSK_SASL_PASSWORD,
      KAFKA_TOPIC_PREFIX: prefix,
      ...(mskEnv.MSK_TLS_ENABLED === "true" ? { KAFKA_TLS_ENABLED: "true", KAFKA_TLS_CA_FILE: mskEnv.MSK_TLS_CA_FILE } : {}),
    };
    await ensureTopics(kafkaOptionsFromEnv(kafkaEnv), { partitions: 3, replicationFactor: 1, logger: quiet });
  });
  afterAll(async () => {
    for (const w of workers) await w.close().catch(() => {});
  });

  it("both subscribers read both publishers' events", async () => {
    const tenantId = uniqueTenant();
    const onKafka = await analyticsWorker(kafkaEnv, tenantId);
    workers.push(onKafka);
    const onMsk = await analyticsWorker(mskEnv, tenantId);
    workers.push(onMsk);
    expect([onKafka.backend, onMsk.backend]).toEqual(["kafka", "msk"]);

    const fromKafka = await publishDecisions(kafkaEnv, tenantId, 3);
    const fromMsk = await publishDecisions(mskEnv, tenantId, 3);
    const all = [...fromKafka, ...fromMsk].sort();

    for (const worker of [onKafka, onMsk]) {
      const seen = await worker.waitFor(6);
      expect(seen.map((e) => e.id).sort()).toEqual(all);
      expect(seen.every((e) => e.type === "decision.made.v1" && e.specversion === "1.0")).toBe(true);
    }
    // The envelopes are identical whichever side published or read them.
    const byId = (list: DomainEvent[]) => Object.fromEntries(list.map((e) => [e.id, e]));
    expect(byId(onKafka.seen)).toEqual(byId(onMsk.seen));
  });
});
