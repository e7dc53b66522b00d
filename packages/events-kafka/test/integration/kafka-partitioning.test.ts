// One key, one partition, whichever client wrote it: both clients publish the same keys to one topic
// and a raw reader records the partition of every record. kafkajs' default partitioner is Java's
// (murmur2 & 0x7fffffff); @platformatic/kafka's default is not, so the seam gives it the same hash
// (javaPartitioner) — without it most keys here would land on two partitions. The same
// records show that both clients send the same headers: content-type on each, and the event's
// traceparent on those that have one.

import { CLOUDEVENTS_CONTENT_TYPE, createEvent, type DomainEvent } from "@kaireon/events-core";
import { sampleDecision, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, describe, expect, it } from "vitest";
import { createKafkaPublisher, kafkaClients } from "../../src/index.js";
import { brokerOptions, plainKafka, prepareTopics, uniquePrefix } from "./helpers.js";

const quiet = { logger: { debug() {}, info() {}, warn() {}, error() {} } };
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
});

describe("kafka keyed partitioning across clients", () => {
  it("every key lands on the same partition, with the same headers, with kafkajs and with @platformatic/kafka", async () => {
    const prefix = uniquePrefix("partitions");
    const tenantId = uniqueTenant("partitions");
    const keys = 60;
    const base = await brokerOptions("plaintext", prefix);
    await prepareTopics(base, 7);
    for (const client of kafkaClients) {
      const publisher = createKafkaPublisher({ ...base, client }, quiet);
      closers.push(() => publisher.close());
      // Every third event carries a creation trace context.
      await Promise.all(
        Array.from({ length: keys }, (_, i) =>
          publisher.publishEvent(
            createEvent(
              "decision.made.v1",
              sampleDecision({ tenantId, customerId: `cust-${i}`, recommendationId: client }),
              i % 3 === 0 ? { traceparent: traceparentOf(i) } : {},
            ) as DomainEvent,
          ),
        ),
      );
      await publisher.close();
    }

    const kafka = plainKafka({ brokers: base.brokers, clientId: "kaireon-test-partitions" });
    const consumer = kafka.consumer({ groupId: uniqueTenant("partitions-reader") });
    closers.push(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topic: `${prefix}decision.made.v1`, fromBeginning: true });
    const seen = new Map<string, Map<string, number>>();
    const headers: Array<{ writer: string; customer: string; headers: Record<string, string> }> = [];
    let count = 0;
    const all = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const event = JSON.parse(String(message.value)) as DomainEvent;
          const writer = (event.data as { recommendationId: string }).recommendationId;
          headers.push({
            writer,
            customer: event.subject,
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          });
          const key = String(message.key);
          const byWriter = seen.get(key) ?? new Map<string, number>();
          byWriter.set(writer, partition);
          seen.set(key, byWriter);
          if (++count === keys * kafkaClients.length) resolve();
        },
      });
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`read ${count} records`)), 60_000)))]);
    clearTimeout(timer);

    expect(seen.size).toBe(keys);
    const partitions = new Set<number>();
    for (const [key, byWriter] of seen) {
      expect(byWriter.size, key).toBe(kafkaClients.length);
      expect(new Set(byWriter.values()).size, `${key}: ${JSON.stringify([...byWriter])}`).toBe(1);
      partitions.add(byWriter.get("kafkajs") as number);
    }
    // The keys are spread (a constant partitioner would also "agree").
    expect(partitions.size).toBeGreaterThan(3);

    expect(headers).toHaveLength(keys * kafkaClients.length);
    for (const { writer, customer, headers: h } of headers) {
      const i = Number(customer.replace("cust-", ""));
      const expected: Record<string, string> = { "content-type": CLOUDEVENTS_CONTENT_TYPE };
      if (i % 3 === 0) expected.traceparent = traceparentOf(i);
      expect(h, `${writer} ${customer}`).toEqual(expected);
    }
  }, 120_000);
});

function traceparentOf(i: number): string {
  return `00-${i.toString(16).padStart(32, "a")}-${"b".repeat(16)}-01`;
}
