// The Kafka subscriber: core's SubscriberBase runs the shell and the handler contract; this file is
// the consumer loop. One kafkajs consumer per subscription, in a consumer group. Where a partition
// has no committed offset for the group, the start is fixed before the group is joined — the end
// (latest), the beginning (earliest) or the first offset at a time (replay) — and applied with seek, so
// "live" means live: anything published after subscribe() resolved is delivered. An offset is committed
// once the delivery is over (handled, failed and reported, or malformed), never for one cut short by
// close(). A consumer that crashes for good (kafkajs does not restart it after a non-retriable error,
// e.g. SASL refused after a password rotation) is reported and replaced, with backoff, until close().

import {
  type BackoffOptions,
  backoffDelay,
  ConnectionError,
  type EventsError,
  type Inbox,
  type SubscribeOptions,
  SubscriberBase,
  type SubscriberContext,
  sleep,
  type TransportSubscription,
} from "@kaireon/events-core/backend";
import {
  type ConsumerPort,
  createKafkaClient,
  type IncomingRecord,
  type KafkaClient,
  type RecordVerdict,
  toEventsError,
} from "./kafka-client.js";
import { type KafkaOptions, warnPlainWithoutTls } from "./kafka-options.js";

/** The options; beside the resolved Kafka options, two of the subscriber's own behaviour. */
export interface KafkaSubscriberOptions extends KafkaOptions {
  /** Attempts of a handler that throws or times out before the record is reported (HANDLER_FAILED) and skipped. Default 3. */
  handlerAttempts?: number;
  /** Wait before each new consumer after a crash: random(0, min(maxMs, baseMs·2^attempt)). Default 1 s … 30 s. */
  resubscribeBackoff?: BackoffOptions;
}

/** Core's SubscriberContext: the logger. */
export type KafkaSubscriberContext = SubscriberContext;

const DEFAULT_RESUBSCRIBE_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 30_000 };

export class KafkaSubscriber extends SubscriberBase {
  private readonly client: KafkaClient;

  constructor(
    private readonly options: KafkaSubscriberOptions,
    context: KafkaSubscriberContext = {},
  ) {
    super({
      backend: options.backend ?? "kafka",
      ...(context.logger ? { logger: context.logger } : {}),
      ...(options.handlerAttempts ? { handler: { attempts: options.handlerAttempts } } : {}),
    });
    warnPlainWithoutTls(options, this.logger);
    this.client = createKafkaClient(options, this.logger);
  }

  protected async open(inbox: Inbox): Promise<TransportSubscription> {
    if (this.client.tracesRecords?.()) inbox.processSpans = false;
    const loop = new KafkaConsumerLoop({
      client: this.client,
      options: this.options,
      inbox,
      backoff: this.options.resubscribeBackoff ?? DEFAULT_RESUBSCRIBE_BACKOFF,
      toError: (error, what) => this.toError(error, what),
    });
    await loop.start();
    return loop;
  }

  /** A client error as the coded error subscribers see; a package built on this one may act on it (MSK drops a refused token). */
  protected toError(error: unknown, what: string): EventsError {
    return toEventsError(error, this.options, what);
  }
}

interface StartOffset {
  topic: string;
  partition: number;
  offset: string;
}

interface ConsumerLoopHost {
  client: KafkaClient;
  options: KafkaOptions;
  inbox: Inbox;
  backoff: BackoffOptions;
  toError: (error: unknown, what: string) => EventsError;
}

/** One subscription's consumer, and its replacement after a crash kafkajs does not recover from. */
class KafkaConsumerLoop implements TransportSubscription {
  private readonly inbox: Inbox;
  private readonly groupId: string;
  private readonly names: string[];
  /** The consumer reading now; undefined between a crash and its replacement. */
  private consumer: ConsumerPort | undefined;
  /** Where the partitions without a committed offset started at subscribe(): a replacement starts there too. */
  private starts: StartOffset[] = [];
  private recovering: Promise<void> | undefined;

  constructor(private readonly host: ConsumerLoopHost) {
    this.inbox = host.inbox;
    this.groupId = host.inbox.options.group ?? host.options.groupId;
    this.names = host.inbox.topics.map((t) => host.options.topicPrefix + t);
  }

  async start(): Promise<void> {
    const what = `subscribe to ${this.names.join(", ")} failed`;
    try {
      this.starts = await this.startOffsets(this.inbox.options.from ?? "latest");
    } catch (error) {
      throw this.host.toError(error, what);
    }
    this.consumer = await this.connect(this.starts, what);
  }

  async close(): Promise<void> {
    // inbox.signal is aborted by now: a backoff wakes up, a connect in progress gives up its consumer.
    await this.recovering;
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
  }

  private async connect(starts: StartOffset[], what: string): Promise<ConsumerPort> {
    const consumer = this.host.client.consumer(this.groupId);
    consumer.onCrash((error, restart) => this.crashed(consumer, error, restart));
    try {
      await consumer.connect();
      // Partitions with a start are seeked below; the rest (a topic created just now) are new: read them whole.
      await consumer.subscribe(this.names, true);
      await consumer.run((record) => this.onRecord(record));
      for (const s of starts) consumer.seek(s.topic, s.partition, s.offset);
      await consumer.joined(Math.max(30_000, this.host.options.publishTimeoutMs), this.inbox.signal);
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw this.host.toError(error, what);
    }
    return consumer;
  }

  private async onRecord(record: IncomingRecord): Promise<RecordVerdict> {
    const raw = record.value?.toString("utf8") ?? "";
    const outcome = await this.inbox.deliver(raw, { source: record.topic, position: `${record.partition}:${record.offset}` });
    // skipped: closing, and the handler did not finish — left for the group to read again.
    return outcome === "skipped" ? "hold" : "commit";
  }

  private crashed(consumer: ConsumerPort, error: unknown, restart: boolean): void {
    // A consumer still connecting reports through connect(); one already replaced or closed has nobody to tell.
    if (this.inbox.signal.aborted || consumer !== this.consumer) return;
    const next = restart ? "kafkajs restarts it" : "resubscribing with backoff until it works or the subscription is closed";
    this.inbox.report({
      error: this.crashError(error, `the consumer of ${this.names.join(", ")} (group ${this.groupId}) crashed — ${next}`),
    });
    if (restart) return;
    this.consumer = undefined;
    void consumer.disconnect().catch(() => {});
    this.recovering ??= this.resubscribe().finally(() => {
      this.recovering = undefined;
    });
  }

  /** AUTH_FAILED or CONNECTION_FAILED per the cause, the client's own advice kept, what happens next appended. */
  private crashError(error: unknown, what: string): EventsError {
    const mapped = this.host.toError(error, what);
    const code = mapped.code === "AUTH_FAILED" ? "AUTH_FAILED" : "CONNECTION_FAILED";
    const message = mapped.message.includes(what) ? mapped.message : `${mapped.message} (${what})`;
    return new ConnectionError({
      backend: mapped.backend,
      code,
      message,
      details: { ...mapped.details, groupId: this.groupId, topics: this.names },
      cause: mapped,
    });
  }

  private async resubscribe(): Promise<void> {
    const { signal } = this.inbox;
    for (let attempt = 1; !signal.aborted; attempt++) {
      await sleep(backoffDelay(attempt, this.host.backoff), signal);
      if (signal.aborted) return;
      const what = `resubscribing to ${this.names.join(", ")} (group ${this.groupId}, attempt ${attempt}) failed — trying again with backoff`;
      try {
        const consumer = await this.connect(await this.resumeStarts(), what);
        if (signal.aborted) {
          await consumer.disconnect().catch(() => {});
          return;
        }
        this.consumer = consumer;
        return;
      } catch (error) {
        if (!signal.aborted) this.inbox.report({ error: this.crashError(error, what) });
      }
    }
  }

  /** The starts of subscribe() for the partitions that still have no committed offset. */
  private async resumeStarts(): Promise<StartOffset[]> {
    if (this.starts.length === 0) return [];
    const admin = this.host.client.admin();
    try {
      await admin.connect();
      const fresh: StartOffset[] = [];
      for (const topic of new Set(this.starts.map((s) => s.topic))) {
        const committed = new Map((await admin.committedOffsets(this.groupId, topic)).map((p) => [p.partition, p.offset]));
        for (const s of this.starts) if (s.topic === topic && (committed.get(s.partition) ?? "-1") === "-1") fresh.push(s);
      }
      return fresh;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  /** Where each partition without a committed offset for the group starts. */
  private async startOffsets(from: NonNullable<SubscribeOptions["from"]>): Promise<StartOffset[]> {
    const admin = this.host.client.admin();
    try {
      await admin.connect();
      const starts: StartOffset[] = [];
      const existing = new Set(await admin.listTopics());
      for (const topic of this.names) {
        // A topic that does not exist yet has no events: reading it from the beginning is "latest".
        if (!existing.has(topic)) continue;
        const committed = new Map((await admin.committedOffsets(this.groupId, topic)).map((p) => [p.partition, p.offset]));
        const fresh = (partition: number) => (committed.get(partition) ?? "-1") === "-1";
        const offsets =
          from instanceof Date
            ? await admin.offsetsByTimestamp(topic, from.getTime())
            : (await admin.topicOffsets(topic)).map((p) => ({ partition: p.partition, offset: from === "earliest" ? p.low : p.high }));
        for (const { partition, offset } of offsets) if (fresh(partition)) starts.push({ topic, partition, offset });
      }
      return starts;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}

export function createKafkaSubscriber(options: KafkaSubscriberOptions, context: KafkaSubscriberContext = {}): KafkaSubscriber {
  return new KafkaSubscriber(options, context);
}
