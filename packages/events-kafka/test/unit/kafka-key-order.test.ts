// Per-key order when a batch fails: the Kafka publisher sends one batch at a time, so a later batch
// carrying the same key as a failed one would be stored ahead of the failed event's retry (the outbox
// relay retries it later). The queued events of that key must fail unsent instead. The broker is
// replaced by a producer that fails its first sendBatch: no real broker fails one request on demand
// (the real broker's ordering is covered by the conformance suite in test/integration).
import type { DomainEvent } from "@kaireon/events-core";
import { createEvent, silentLogger } from "@kaireon/events-core";
import { sampleDecision } from "@kaireon/events-testkit";
import { expect, it } from "vitest";
import { createKafkaPublisher, resolveKafkaOptions } from "../../src/index.js";

it("when a batch fails, the queued events of its keys fail unsent; other keys go on", async () => {
  const sent: string[][] = [];
  let calls = 0;
  let releaseFirst: (error: Error) => void = () => {};
  const producer = {
    connect: async () => {},
    disconnect: async () => {},
    sendBatch: (records: Array<{ key: string }>) => {
      calls++;
      const keys = records.map((r) => r.key);
      if (calls === 1) return new Promise<void>((_, reject) => (releaseFirst = reject));
      sent.push(keys);
      return Promise.resolve();
    },
  };
  const publisher = createKafkaPublisher(resolveKafkaOptions({ brokers: ["127.0.0.1:1"], lingerMs: 0, batchSize: 10 }), {
    logger: silentLogger,
  });
  // The seam the publisher talks to: its client's producer.
  (publisher as unknown as { client: { producer: () => unknown } }).client.producer = () => producer;
  const event = (customerId: string, id: string) =>
    createEvent("decision.made.v1", sampleDecision({ tenantId: "t", customerId, recommendationId: id })) as DomainEvent;

  const first = publisher.publish("decision.made.v1", sampleDecision({ tenantId: "t", customerId: "a", recommendationId: "a1" }));
  await new Promise((r) => setTimeout(r, 20)); // a1 is in flight
  const later = publisher.publishBatch([event("a", "a2"), event("b", "b1")]);
  await new Promise((r) => setTimeout(r, 20));
  releaseFirst(new Error("broker said no"));
  await expect(first).rejects.toBeDefined();
  const [a2, b1] = await later;
  expect(a2?.status).toBe("rejected");
  expect((a2 as PromiseRejectedResult).reason).toMatchObject({ code: "PUBLISH_FAILED", details: { sent: false } });
  expect(b1?.status).toBe("fulfilled");
  expect(sent).toEqual([["t:b"]]);
  await publisher.close();
});
