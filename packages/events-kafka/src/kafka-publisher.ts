// The Kafka publisher: concurrent publishes are gathered by core's Batcher into sendBatch calls (kafkajs
// has no linger), one batch in flight at a time so the idempotent producer's sequence — and with it
// per-key order — holds (kafkajs#598). A batch resolves only when every partition acked with acks=all.

import {
  type Batcher,
  type Delivery,
  type DomainEvent,
  PublisherBase,
  type PublisherContext,
  type ReadinessReport,
  serializeEvent,
} from "@kaireon/events-core/backend";
import {
  type AdminPort,
  createKafkaClient,
  describeSasl,
  type KafkaClient,
  type OutgoingRecord,
  type ProducerPort,
  toEventsError,
} from "./kafka-client.js";
import { type KafkaOptions, warnPlainWithoutTls } from "./kafka-options.js";

/** What every event of a batch that the broker acked resolves with (shared: nobody writes to it). */
const DELIVERED: { ok: true; value: Delivery } = Object.freeze({ ok: true as const, value: Object.freeze({}) });

/** Core's PublisherContext: the CloudEvents source and the logger. */
export type KafkaPublisherContext = PublisherContext;

export class KafkaPublisher extends PublisherBase {
  private readonly client: KafkaClient;
  /** Queued items are the events themselves: topic, key, value and headers are made when a batch is formed. */
  private readonly batcher: Batcher<DomainEvent, Delivery>;
  private producer: ProducerPort | undefined;
  private connecting: Promise<ProducerPort> | undefined;
  private admin: AdminPort | undefined;
  /** Set when close() releases the connections: a connect still pending then lets go of what it got. */
  private released = false;
  /** The batch being connected for or sent (one at a time), settled either way: close() waits for it. */
  private sending: Promise<void> | undefined;
  /** Event type → topic; as many entries as there are event types. */
  private readonly topics = new Map<string, string>();
  /**
   * The last type looked up and its topic: a batch is mostly one type, and an envelope read back from
   * a stored row (the relay) has its own copy of the type string, which a Map lookup hashes first.
   */
  private lastType: string | undefined;
  private lastTopic = "";

  constructor(
    private readonly options: KafkaOptions,
    context: KafkaPublisherContext = {},
  ) {
    super({
      backend: options.backend ?? "kafka",
      ...(context.source ? { source: context.source } : {}),
      ...(context.logger ? { logger: context.logger } : {}),
    });
    warnPlainWithoutTls(options, this.logger);
    this.client = createKafkaClient(options, this.logger);
    this.batcher = this.useBatcher<DomainEvent, Delivery>({
      backend: this.backend,
      send: (items) => this.trackSend(this.sendBatch(items)),
      maxBatchSize: options.batchSize,
      maxBatchBytes: options.maxBatchBytes,
      // Serialising is the sizing: sizeAhead does it for the next batch while one is in flight, and
      // the envelope caches its JSON, so sendBatch finds it ready.
      sizeOf: (event) => Buffer.byteLength(serializeEvent(event)) + event.partitionkey.length + 128,
      sizeAhead: true,
      lingerMs: options.lingerMs,
      maxQueued: options.maxQueued,
      maxInFlight: 1,
      // When a batch fails, the queued events of its keys fail unsent rather than go out ahead of the
      // failed one's retry: per-key order survives a retry by the caller (the outbox relay).
      orderKey: (event) => event.partitionkey,
      timeoutMs: options.publishTimeoutMs,
    });
  }

  protected deliver(event: DomainEvent): Promise<Delivery> {
    return this.batcher.add(event);
  }

  /**
   * publish(), publishEvent() and publishBatch() queue the event themselves and the batcher settles
   * the caller's promise (PublisherBase.batchItem): one promise per event instead of three, for
   * thousands waiting at once. The item is the event, as deliver() queues it: its JSON is made (and
   * cached on it) while the batch before it is in flight, and its record only when its batch is formed.
   */
  protected override batchItem(event: DomainEvent): DomainEvent {
    return event;
  }

  protected override destinationOf(event: DomainEvent): string {
    return this.options.topicPrefix + event.type;
  }

  private connect(): Promise<ProducerPort> {
    if (this.released) return Promise.reject(this.closedError());
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.client.producer();
      try {
        await producer.connect();
      } catch (error) {
        await producer.disconnect().catch(() => {});
        throw error;
      }
      // close() ran while this connect was pending (its publishes had timed out): nothing may be
      // sent after close, and the connection is nobody's to keep.
      if (this.released) {
        await producer.disconnect().catch(() => {});
        throw this.closedError();
      }
      this.producer = producer;
      return producer;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private trackSend<T>(sending: Promise<T>): Promise<T> {
    const settled = sending.then(
      () => {},
      () => {},
    );
    this.sending = settled;
    void settled.finally(() => {
      if (this.sending === settled) this.sending = undefined;
    });
    return sending;
  }

  /** The topic of an event type (prefix + type), made once per type rather than once per event. */
  private topicOf(type: string): string {
    if (type === this.lastType) return this.lastTopic;
    let topic = this.topics.get(type);
    if (topic === undefined) {
      topic = this.options.topicPrefix + type;
      this.topics.set(type, topic);
    }
    this.lastType = type;
    this.lastTopic = topic;
    return topic;
  }

  private async sendBatch(items: DomainEvent[]): Promise<Array<{ ok: true; value: Delivery }>> {
    const records: OutgoingRecord[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const event = items[i] as DomainEvent;
      // The traceparent header carries the envelope's creation context, for consumers (and the
      // instrumentations) that read the record header rather than the envelope.
      records[i] = {
        topic: this.topicOf(event.type),
        key: event.partitionkey,
        value: serializeEvent(event),
        traceparent: event.traceparent,
      };
    }
    let producer: ProducerPort | undefined;
    try {
      producer = await this.connect();
      if (this.released) throw this.closedError();
      await producer.sendBatch(records, this.options.compression, Math.min(30_000, this.options.publishTimeoutMs));
    } catch (error) {
      // After a failed batch the idempotent producer's sequence numbers are in doubt: start a fresh
      // producer (new producer id) for the next batch rather than risk OUT_OF_ORDER_SEQUENCE_NUMBER.
      if (producer && this.producer === producer) {
        this.producer = undefined;
        void producer.disconnect().catch(() => {});
      }
      throw toEventsError(error, this.options, "publish failed");
    } finally {
      // close() stopped waiting for this batch (its bound passed): kafkajs may have reconnected to retry it.
      if (this.released && producer) void producer.disconnect().catch(() => {});
    }
    return new Array(items.length).fill(DELIVERED);
  }

  protected override async release(): Promise<void> {
    this.released = true;
    // The batch still connecting or in flight (its publishes may have timed out already) is waited
    // for — kafkajs bounds it by its retries, this by the publish bound — so what it connected is
    // disconnected before close() resolves, and the connect lets go of a producer it got too late.
    // Disconnecting under a send in flight would not stop it: kafkajs retries it and reconnects.
    const sending = this.sending;
    if (sending) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        sending,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.options.publishTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    await Promise.allSettled([this.producer?.disconnect(), this.admin?.disconnect()]);
    this.producer = undefined;
    this.admin = undefined;
  }

  async ready(): Promise<ReadinessReport> {
    // kafkajs connect() returns at once when already connected, so the probe is cheap once up.
    this.admin ??= this.client.admin();
    const admin = this.admin;
    const probe = async () => {
      await admin.connect();
      return (await admin.describeCluster()).brokers;
    };
    let timer: NodeJS.Timeout | undefined;
    const limit = Math.min(10_000, this.options.publishTimeoutMs);
    try {
      const brokers = await Promise.race([
        probe(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${limit} ms`)), limit);
        }),
      ]);
      return { ready: true, backend: this.backend, detail: `${brokers} broker(s), ${describeSasl(this.options)}` };
    } catch (error) {
      if (this.admin === admin) this.admin = undefined;
      void admin.disconnect().catch(() => {});
      return { ready: false, backend: this.backend, detail: toEventsError(error, this.options, "not ready").message };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A publisher from resolved options (what the env produces, or what a package like MSK builds). */
export function createKafkaPublisher(options: KafkaOptions, context: KafkaPublisherContext = {}): KafkaPublisher {
  return new KafkaPublisher(options, context);
}
