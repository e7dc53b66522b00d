// Our spans beside @opentelemetry/instrumentation-kafkajs, on the real Kafka broker of
// tooling/services/kafka.sh with events-kafka's kafkajs client (KAFKA_CLIENT=kafkajs): the
// instrumentation is registered (with the in-memory SDK) before kafkajs is first loaded. What a user
// who runs both sees (events-kafka's README says the same): one `send` per batch (ours) with kafkajs'
// per-record `send` PRODUCER spans under it; on the consumer side kafkajs' own `poll` span per batch
// and its `process` span per record (linked to the record's traceparent header, which kafkajs' own
// per-record send span wrote: a child of our send, which links the creation contexts) — and none of
// ours beside it: the kafkajs seam tells core the client traces each record
// (Inbox.processSpans), so there is one process span per message, not two.
import { SpanKind } from "@opentelemetry/api";
import { KafkaJsInstrumentation } from "@opentelemetry/instrumentation-kafkajs";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { expect, it } from "vitest";
import { besideInstrumentation, expectEachLinkedOnce, ours, publishFiveInRequest, scopeOf } from "./instrumentation-support.js";

const otel = besideInstrumentation(
  () => new KafkaJsInstrumentation(),
  "events-kafka",
  "kafkajs",
  (kafkajs) => (kafkajs.Kafka as { prototype: { producer: { __wrapped?: boolean } } }).prototype.producer.__wrapped ?? false,
);
const isKafkajs = (s: ReadableSpan) => scopeOf(s) === "@opentelemetry/instrumentation-kafkajs";

it("with the kafkajs instrumentation: one send per batch (kafkajs' per-record send spans under it), kafkajs' process span per record and none of ours beside it", async () => {
  const { requireService, sampleInteraction } = await import("@kaireon/events-testkit");
  const KAFKA_BROKERS = await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  const { createEvent, loadPublisher, loadSubscriber, silentLogger } = await import("@kaireon/events-core");
  const { backend, ensureTopics } = await import("@kaireon/events-kafka");
  const run = `otel-kafkajs-${Date.now()}`;
  const env = {
    EVENT_PUBLISHER: "kafka",
    KAFKA_CLIENT: "kafkajs",
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: `${run}.`,
    KAFKA_CONSUMER_GROUP_ID: run,
  };
  await ensureTopics(backend.fromEnv(env)!, { partitions: 1, logger: silentLogger });
  const subscriber = await loadSubscriber(env, { logger: silentLogger });
  const received: string[] = [];
  const subscription = await subscriber.subscribe(["interaction.recorded.v1"], (event) => {
    received.push(event.id);
  });
  const publisher = await loadPublisher(env, { logger: silentLogger });
  try {
    const events = await publishFiveInRequest(
      (i) => createEvent("interaction.recorded.v1", sampleInteraction({ customerId: `c-${i}` })),
      (e) => publisher.publishEvent(e),
    );
    const ids = new Set(events.map((e) => e.id));
    await expect.poll(() => received.filter((id) => ids.has(id)).length, { timeout: 60_000, interval: 200 }).toBe(5);
    const theirProcessesOf = (spans: readonly ReadableSpan[]) =>
      spans.filter((s) => isKafkajs(s) && s.kind === SpanKind.CONSUMER && s.name.startsWith("process"));
    await expect.poll(() => theirProcessesOf(otel().spans()).length, { timeout: 10_000 }).toBe(5);

    const spans = otel().spans();
    const kafkajs = spans.filter(isKafkajs);
    expect(kafkajs.length).toBeGreaterThan(0);
    const creates = ours(spans, "create");
    expect(creates).toHaveLength(5);
    const sends = ours(spans, "send");
    expectEachLinkedOnce(creates, sends, "send");
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    const sendIds = new Set(sends.map((s) => s.spanContext().spanId));
    // kafkajs' producer spans: one per record, PRODUCER, all children of our send span.
    const theirSends = kafkajs.filter((s) => s.kind === SpanKind.PRODUCER);
    expect(theirSends).toHaveLength(5);
    for (const s of theirSends) expect(sendIds.has(parentOf(s) ?? "")).toBe(true);

    // The consumer side: kafkajs' `poll` span per batch and its `process` CONSUMER span per record,
    // each linked to the record's header — kafkajs' send span of that record, under our send span —
    // so the journey stays one chain; core's own process span is not made beside it.
    const polls = kafkajs.filter((s) => s.name.startsWith("poll"));
    expect(polls.length).toBeGreaterThanOrEqual(1);
    const theirProcesses = theirProcessesOf(spans);
    expect(theirProcesses).toHaveLength(5);
    expectEachLinkedOnce(theirSends, theirProcesses, "kafkajs process");
    expect(ours(spans, "process")).toEqual([]);
  } finally {
    await publisher.close();
    await subscription.close();
    await subscriber.close();
  }
});
