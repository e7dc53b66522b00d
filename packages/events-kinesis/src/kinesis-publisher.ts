// PutRecords publisher. Concurrent publishes are gathered by core's Batcher within Kinesis's limits
// (records, request bytes); each request goes through core's sendWithPartialRetry, which re-sends
// only the records Kinesis rejected with a retryable ErrorCode. Strict ordering = Batcher's orderKey
// plus oneItemPerKey: a key has one record in flight at a time, so a retry can never let a later
// record of that key overtake it.

import { DescribeStreamSummaryCommand, type KinesisClient, PutRecordsCommand, type PutRecordsResultEntry } from "@aws-sdk/client-kinesis";
import {
  AWS_RETRYABLE_CODES,
  type Batcher,
  type Delivery,
  type DomainEvent,
  type EntryResult,
  eventTooLargeError,
  PublishError,
  PublisherBase,
  type PublisherContext,
  type ReadinessReport,
  sendWithPartialRetry,
  serializeEvent,
} from "@kaireon/events-core/backend";
import { BACKEND, createKinesisClient, kinesisPartitionKey, streamName, streamParams, toEventsError } from "./kinesis-client.js";
import { type KinesisConfig, type KinesisOptions, kinesisOptions } from "./kinesis-options.js";

export interface KinesisPublisherContext extends PublisherContext {
  /** Use this client instead of building one (tests, custom middleware). It is not destroyed on close. */
  client?: KinesisClient;
}

/** The options; `client`, `source` and `logger` here are the deprecated one-argument form of the context. */
export type KinesisPublisherOptions = KinesisConfig & KinesisPublisherContext;

interface OutgoingRecord {
  /** The event itself: its send span links to its creation context. */
  event: DomainEvent;
  data: Uint8Array;
  partitionKey: string;
}

export class KinesisPublisher extends PublisherBase {
  readonly client: KinesisClient;
  private readonly ownsClient: boolean;
  private readonly batcher: Batcher<OutgoingRecord, Delivery>;
  private readonly encoder = new TextEncoder();

  private readonly options: KinesisOptions;

  constructor(config: KinesisPublisherOptions, context: KinesisPublisherContext = {}) {
    const { client: legacyClient, source: legacySource, logger: legacyLogger, ...given } = config;
    const { client = legacyClient, source = legacySource, logger = legacyLogger } = context;
    super({ backend: BACKEND, ...(source ? { source } : {}), ...(logger ? { logger } : {}) });
    const options = kinesisOptions(given);
    this.options = options;
    this.ownsClient = client === undefined;
    this.client = client ?? createKinesisClient(options);
    const strict = options.ordering === "strict";
    this.batcher = this.useBatcher<OutgoingRecord, Delivery>({
      backend: BACKEND,
      send: (records) => this.putRecords(records),
      maxBatchSize: options.maxRecordsPerRequest,
      maxBatchBytes: options.maxRequestBytes,
      sizeOf: (record) => record.data.byteLength + Buffer.byteLength(record.partitionKey),
      lingerMs: options.lingerMs,
      maxQueued: options.maxQueued,
      maxInFlight: options.maxInFlight,
      timeoutMs: options.publishTimeoutMs,
      ...(strict ? { orderKey: (record: OutgoingRecord) => record.partitionKey, oneItemPerKey: true } : {}),
    });
  }

  protected deliver(event: DomainEvent): Promise<Delivery> {
    return this.batcher.add(this.batchItem(event));
  }

  /** The record of an event; throws EVENT_TOO_LARGE for one over KINESIS_MAX_RECORD_BYTES (nothing sent). */
  protected override batchItem(event: DomainEvent): OutgoingRecord {
    const data = this.encoder.encode(serializeEvent(event));
    const partitionKey = kinesisPartitionKey(event.partitionkey);
    const size = data.byteLength + Buffer.byteLength(partitionKey);
    if (size > this.options.maxRecordBytes) {
      throw eventTooLargeError({
        backend: BACKEND,
        eventId: event.id,
        size,
        measured: "data + partition key",
        limit: this.options.maxRecordBytes,
        limitName: "KINESIS_MAX_RECORD_BYTES",
      });
    }
    return { event, data, partitionKey };
  }

  protected override destinationOf(): string {
    return streamName(this.options.stream);
  }

  private putRecords(records: OutgoingRecord[]) {
    const { stream, endpoint, maxAttempts, retryBaseMs, retryMaxMs, publishTimeoutMs } = this.options;
    // Past the publish bound every record of the batch has already settled (PUBLISH_TIMEOUT): a request
    // still waiting then only holds the in-flight slot and, in strict mode, its keys. The request
    // timeout of our own client ends it sooner; this also bounds a client passed in without one.
    const deadline = AbortSignal.timeout(publishTimeoutMs);
    return sendWithPartialRetry<OutgoingRecord, Delivery>(records, {
      maxAttempts,
      backoff: { baseMs: retryBaseMs, maxMs: retryMaxMs },
      attempt: async (batch, attemptNumber) => {
        let entries: PutRecordsResultEntry[];
        try {
          const out = await this.client.send(
            new PutRecordsCommand({
              ...streamParams(stream),
              Records: batch.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })),
            }),
            { abortSignal: deadline as never },
          );
          entries = out.Records ?? [];
        } catch (error) {
          // Whole-request failures were already retried by the SDK (its standard retry strategy).
          throw toEventsError(error, stream, endpoint);
        }
        return entries.map((entry): EntryResult<Delivery> => {
          if (!entry.ErrorCode) return { ok: true, value: { position: `${entry.ShardId}:${entry.SequenceNumber}` } };
          const retryable = AWS_RETRYABLE_CODES.has(entry.ErrorCode);
          const last = attemptNumber >= maxAttempts;
          const hint =
            retryable && last
              ? ` — still rejected after ${maxAttempts} attempts (KINESIS_MAX_ATTEMPTS); add shards or publish less`
              : retryable
                ? ""
                : " — not retryable";
          return {
            ok: false,
            error: new PublishError({
              backend: BACKEND,
              message: `[kinesis] ${streamName(stream)} rejected the record: ${entry.ErrorCode}: ${entry.ErrorMessage ?? ""}${hint}`,
              details: { errorCode: entry.ErrorCode, attempts: attemptNumber },
              ...(retryable ? { retryable } : {}),
            }),
          };
        });
      },
      onRetry: (count, attemptNumber) =>
        this.logger.debug(`[kinesis] retrying ${count} rejected record(s)`, { attempt: attemptNumber + 1, stream: streamName(stream) }),
    });
  }

  protected override release(): void {
    if (this.ownsClient) this.client.destroy();
  }

  async ready(): Promise<ReadinessReport> {
    if (this.closed) return { ready: false, backend: BACKEND, detail: "publisher is closed" };
    try {
      // One request timeout for the whole check, the SDK's retries included: /health must answer.
      const out = await this.client.send(new DescribeStreamSummaryCommand(streamParams(this.options.stream)), {
        abortSignal: AbortSignal.timeout(this.options.requestTimeoutMs) as never,
      });
      const status = out.StreamDescriptionSummary?.StreamStatus;
      if (status === "ACTIVE" || status === "UPDATING") return { ready: true, backend: BACKEND };
      return { ready: false, backend: BACKEND, detail: `stream ${streamName(this.options.stream)} is ${status ?? "in an unknown state"}` };
    } catch (error) {
      return { ready: false, backend: BACKEND, detail: toEventsError(error, this.options.stream, this.options.endpoint).message };
    }
  }
}

export function createKinesisPublisher(options: KinesisPublisherOptions, context: KinesisPublisherContext = {}): KinesisPublisher {
  return new KinesisPublisher(options, context);
}
