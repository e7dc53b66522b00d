// What an event waiting for its batch holds. With 20,000 publishes waiting (the bench, a relay's
// burst), every young-generation collection copies that: the publisher queues the event itself
// (PublisherBase.batchItem), so the batcher's promise is the caller's — one promise per event, not
// three with their callbacks. The broker is replaced by a producer that never answers (no real
// broker holds every request open on demand): the first batch stays in flight, the rest queued.
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { silentLogger } from "@kaireon/events-core";
import { sampleDecision } from "@kaireon/events-testkit";
import { expect, it } from "vitest";
import { createKafkaPublisher, resolveKafkaOptions } from "../../src/index.js";

// Measured: 818 bytes on Node 24, 948 on Node 22; with three promises per publish 1,075 and 1,205.
const bound = Number(process.versions.node.split(".")[0]) >= 24 ? 950 : 1100;

it(`an event waiting for its batch holds under ${bound} bytes of heap beside its payload (one promise per publish)`, async () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const used = () => {
    gc();
    gc();
    return getHeapStatistics().used_heap_size;
  };
  const publisher = createKafkaPublisher(resolveKafkaOptions({ brokers: ["127.0.0.1:1"], publishTimeoutMs: 600_000, maxQueued: 100_000 }), {
    logger: silentLogger,
  });
  const producer = { connect: async () => {}, disconnect: async () => {}, sendBatch: () => new Promise<void>(() => {}) };
  (publisher as unknown as { client: { producer: () => unknown } }).client.producer = () => producer;
  const n = 20_000;
  // The payloads exist before the measurement: what is counted is what publishing adds.
  const payloads = Array.from({ length: n }, (_, i) =>
    sampleDecision({ tenantId: "t", customerId: `cust-${i % 10_000}`, recommendationId: `rec-${i}` }),
  );
  const pending: Promise<unknown>[] = new Array(n);
  const before = used();
  for (let i = 0; i < n; i++) pending[i] = publisher.publish("decision.made.v1", payloads[i] as (typeof payloads)[number]);
  await new Promise((r) => setTimeout(r, 50)); // the first batch is sent, the next one serialized meanwhile
  const perEvent = (used() - before) / n;
  expect(publisher.metrics().pending).toBe(n);
  console.log(`kafka: heap held per waiting event: ${Math.round(perEvent)} bytes`);
  expect(perEvent).toBeLessThan(bound);
});
