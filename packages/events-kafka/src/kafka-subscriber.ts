// The Kafka subscriber: one kafkajs consumer per subscription, in a consumer group. Where a partition
// has no committed offset for the group, the start is fixed before the group is joined — the end
// (latest), the beginning (earliest) or the first offset at a time (replay) — and applied with seek, so
// "live" means live: anything published after subscribe() resolved is delivered. An offset is committed
// only after the handler returned; a malformed record goes to onError and the partition moves on.

import {
  consoleLogger,
  type DomainEvent,
  type EventHandler,
  EventsError,
  type Logger,
  type MessageContext,
  type SubscribeOptions,
  type Subscriber,
  type Subscription,
  type SubscriptionError,
  safeParseEvent,
  sleep,
  type TopicName,
} from "@kaireon/events-core";
import { type AdminPort, createKafkaClient, type IncomingRecord, type KafkaClient } from "./kafka-client.js";
import { toEventsError } from "./kafka-errors.js";
import { type KafkaOptions, warnPlainWithoutTls } from "./kafka-options.js";

export interface KafkaSubscriberDeps {
  logger?: Logger;
  /** Attempts of a handler that throws before the record is reported (HANDLER_FAILED) and skipped. Default 3. */
  handlerAttempts?: number;
}

export class KafkaSubscriber implements Subscriber {
  readonly backend: string;
  private readonly client: KafkaClient;
  private readonly logger: Logger;
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(
    private readonly options: KafkaOptions,
    private readonly deps: KafkaSubscriberDeps = {},
  ) {
    this.backend = options.backend ?? "kafka";
    this.logger = deps.logger ?? consoleLogger;
    warnPlainWithoutTls(options, this.logger);
    this.client = createKafkaClient(options, this.logger);
  }

  async subscribe(topics: readonly TopicName[], handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.closed) {
      throw new EventsError({
        backend: this.backend,
        code: "SUBSCRIBER_CLOSED",
        message: `[${this.backend}] subscriber is closed — create a new one`,
      });
    }
    const groupId = options.group ?? this.options.groupId;
    const names = topics.map((t) => this.options.topicPrefix + t);
    const onError =
      options.onError ??
      ((failure: SubscriptionError) =>
        this.logger.warn(failure.error.message, { code: failure.error.code, source: failure.context?.source }));
    const consumer = this.client.consumer(groupId);
    const admin = this.client.admin();
    try {
      await admin.connect();
      const starts = await this.startOffsets(admin, groupId, names, options.from ?? "latest");
      await admin.disconnect();
      await consumer.connect();
      // Partitions with a start were seeked above; the rest (a topic created just now) are new: read them whole.
      await consumer.subscribe(names, true);
      await consumer.run((record) => this.onRecord(record, topics, handler, onError));
      for (const s of starts) consumer.seek(s.topic, s.partition, s.offset);
      await consumer.joined(Math.max(30_000, this.options.publishTimeoutMs));
    } catch (error) {
      await Promise.allSettled([consumer.disconnect(), admin.disconnect()]);
      throw toEventsError(error, this.options, `subscribe to ${names.join(", ")} failed`);
    }
    let closing: Promise<void> | undefined;
    const subscription: Subscription = {
      topics: [...topics],
      close: () => {
        closing ??= consumer.disconnect().finally(() => {
          this.subscriptions.delete(subscription);
        });
        return closing;
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Where each partition without a committed offset for the group starts. */
  private async startOffsets(admin: AdminPort, groupId: string, topics: string[], from: NonNullable<SubscribeOptions["from"]>) {
    const starts: Array<{ topic: string; partition: number; offset: string }> = [];
    const existing = new Set(await admin.listTopics());
    for (const topic of topics) {
      // A topic that does not exist yet has no events: reading it from the beginning is "latest".
      if (!existing.has(topic)) continue;
      const committed = new Map((await admin.committedOffsets(groupId, topic)).map((p) => [p.partition, p.offset]));
      const fresh = (partition: number) => (committed.get(partition) ?? "-1") === "-1";
      const offsets =
        from instanceof Date
          ? await admin.offsetsByTimestamp(topic, from.getTime())
          : (await admin.topicOffsets(topic)).map((p) => ({ partition: p.partition, offset: from === "earliest" ? p.low : p.high }));
      for (const { partition, offset } of offsets) if (fresh(partition)) starts.push({ topic, partition, offset });
    }
    return starts;
  }

  private async onRecord(
    record: IncomingRecord,
    topics: readonly TopicName[],
    handler: EventHandler,
    onError: (failure: SubscriptionError) => void,
  ): Promise<void> {
    const context: MessageContext = { source: record.topic, position: `${record.partition}:${record.offset}` };
    const raw = record.value?.toString("utf8") ?? "";
    const parsed = safeParseEvent(raw);
    if (!parsed.ok) {
      report(onError, { error: parsed.error, raw, context });
      return;
    }
    const event: DomainEvent = parsed.event;
    if (!topics.includes(event.type)) {
      report(onError, {
        error: new EventsError({
          backend: this.backend,
          code: "MALFORMED_MESSAGE",
          message: `[${this.backend}] event of type ${event.type} found on ${record.topic} — only ${topics.join(", ")} were subscribed`,
        }),
        raw,
        context,
      });
      return;
    }
    const attempts = this.deps.handlerAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(event, context);
        return;
      } catch (cause) {
        if (attempt >= attempts) {
          report(onError, {
            error: new EventsError({
              backend: this.backend,
              code: "HANDLER_FAILED",
              message: `[${this.backend}] handler failed ${attempts} times for event ${event.id} on ${context.source} at ${context.position}: ${(cause as Error)?.message ?? String(cause)} — skipped`,
              cause,
            }),
            context,
          });
          return;
        }
        await sleep(100 * 2 ** attempt);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
  }
}

function report(onError: (failure: SubscriptionError) => void, failure: SubscriptionError): void {
  try {
    onError(failure);
  } catch {
    // an onError that throws must not stop the partition
  }
}

export function createKafkaSubscriber(options: KafkaOptions, deps: KafkaSubscriberDeps = {}): KafkaSubscriber {
  return new KafkaSubscriber(options, deps);
}
