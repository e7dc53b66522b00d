// A polling shard reader (ListShards → GetShardIterator → GetRecords) for analytics workers and
// tests. It reads every shard of the stream, a closed parent shard to its end before its children
// (so per-key order survives a reshard), checkpoints per shard in a pluggable store, and reports a
// malformed record through onError without stopping. It does not share shards between processes:
// that lease coordination is what the KCL is for (see README).

import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
  type ShardIteratorType,
} from "@aws-sdk/client-kinesis";
import {
  backoffDelay,
  type DeliveryOutcome,
  EventsError,
  type Inbox,
  isTopicName,
  type MessageContext,
  SubscriberBase,
  type SubscriberContext,
  safeParseEvent,
  sleep,
  type TopicName,
  type TransportSubscription,
} from "@kaireon/events-core/backend";
import { type KinesisCheckpointKey, type KinesisCheckpointStore, MemoryCheckpointStore } from "./kinesis-checkpoints.js";
import { BACKEND, createKinesisClient, streamName, streamParams, toEventsError } from "./kinesis-client.js";
import { type KinesisConfig, type KinesisOptions, kinesisOptions } from "./kinesis-options.js";

export const DEFAULT_KINESIS_GROUP = "kaireon-consumers";

/** How far an AT_TIMESTAMP position is set back for clock skew (see caughtUp). */
const CLOCK_MARGIN_MS = 1_000;

export interface KinesisSubscriberContext extends SubscriberContext {
  /** Use this client instead of building one. It is not destroyed on close. */
  client?: KinesisClient;
  /** Where checkpoints go; default: in memory, per subscriber. */
  checkpointStore?: KinesisCheckpointStore;
}

type ReaderOptions = KinesisOptions & {
  /** How often the shard list is re-read to find shards a reshard created; default 10 s. */
  shardDiscoveryIntervalMs?: number;
};

/** The options; `client`, `logger` and `checkpointStore` here are the deprecated one-argument form of the context. */
export type KinesisSubscriberOptions = KinesisConfig & Pick<ReaderOptions, "shardDiscoveryIntervalMs"> & KinesisSubscriberContext;

type Position =
  | { type: "LATEST" | "TRIM_HORIZON" }
  | { type: "AT_TIMESTAMP"; at: Date }
  | { type: "AFTER_SEQUENCE_NUMBER"; sequenceNumber: string };

/** The shell (checks, handler contract, onError) is core's SubscriberBase; this file is the shard loop. */
export class KinesisSubscriber extends SubscriberBase {
  readonly client: KinesisClient;
  private readonly ownsClient: boolean;
  private readonly store: KinesisCheckpointStore;

  private readonly options: ReaderOptions;

  constructor(config: KinesisSubscriberOptions, context: KinesisSubscriberContext = {}) {
    const { client: legacyClient, logger: legacyLogger, checkpointStore: legacyStore, shardDiscoveryIntervalMs, ...given } = config;
    const { client = legacyClient, logger = legacyLogger, checkpointStore = legacyStore } = context;
    super({ backend: BACKEND, ...(logger ? { logger } : {}) });
    this.options = { ...kinesisOptions(given), ...(shardDiscoveryIntervalMs === undefined ? {} : { shardDiscoveryIntervalMs }) };
    this.ownsClient = client === undefined;
    this.client = client ?? createKinesisClient(this.options);
    this.store = checkpointStore ?? new MemoryCheckpointStore();
  }

  protected async open(inbox: Inbox): Promise<TransportSubscription> {
    const subscription = new KinesisSubscription(this.client, this.store, this.options, inbox);
    try {
      await subscription.start();
    } catch (error) {
      await subscription.close();
      throw toEventsError(error, this.options.stream, this.options.endpoint);
    }
    return subscription;
  }

  protected override release(): void {
    if (this.ownsClient) this.client.destroy();
  }
}

class KinesisSubscription implements TransportSubscription {
  private readonly wanted: ReadonlySet<TopicName>;
  private readonly group: string;
  private readonly stream: string;
  /** With `from: Date`: skip events created before it (AT_TIMESTAMP positions by arrival time). */
  private readonly since: number | undefined;
  private readonly shards = new Map<string, Shard>();
  private readonly positions = new Map<string, Position>();
  private readonly finished = new Set<string>();
  private readonly started = new Set<string>();
  private readonly loops = new Set<Promise<void>>();
  /** Aborted by the base when the subscription closes (and by a failed start). */
  private readonly abort = new AbortController();
  private discovery: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly client: KinesisClient,
    private readonly store: KinesisCheckpointStore,
    private readonly options: ReaderOptions,
    private readonly inbox: Inbox,
  ) {
    this.wanted = new Set(inbox.topics);
    this.group = inbox.options.group ?? DEFAULT_KINESIS_GROUP;
    this.stream = streamName(options.stream);
    const from = inbox.options.from;
    this.since = from instanceof Date ? from.getTime() : undefined;
    if (inbox.signal.aborted) this.abort.abort();
    else inbox.signal.addEventListener("abort", () => this.abort.abort(), { once: true });
  }

  /** Resolves once every readable shard has an iterator: records put after that are delivered. */
  async start(): Promise<void> {
    await this.discover(true);
    const every = this.options.shardDiscoveryIntervalMs ?? 10_000;
    this.timer = setInterval(() => this.refresh(), every);
    this.timer.unref();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort();
      clearInterval(this.timer);
      await Promise.allSettled([...this.loops]);
    })();
    return this.closing;
  }

  private get closed(): boolean {
    return this.abort.signal.aborted;
  }

  private key(shardId: string): KinesisCheckpointKey {
    return { group: this.group, stream: this.stream, shardId };
  }

  /** Re-reads the shard list in the background (serialised), reporting failures. */
  private refresh(): void {
    this.discovery = this.discovery
      .then(() => (this.closed ? undefined : this.discover(false)))
      .catch((error) => {
        if (!this.closed) this.report(toEventsError(error, this.options.stream, this.options.endpoint));
      });
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.client.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : streamParams(this.options.stream)), {
        abortSignal: this.abort.signal as never,
      });
      shards.push(...(out.Shards ?? []));
      nextToken = out.NextToken;
    } while (nextToken);
    return shards;
  }

  private async discover(initial: boolean): Promise<void> {
    const listed = await this.listShards();
    for (const shard of listed) {
      const id = shard.ShardId as string;
      const known = this.shards.has(id);
      this.shards.set(id, shard);
      if (known) continue;
      const checkpoint = await this.store.load(this.key(id));
      if (checkpoint?.finished) this.finished.add(id);
      else if (checkpoint?.sequenceNumber)
        this.positions.set(id, { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: checkpoint.sequenceNumber });
      else if (!initial)
        this.positions.set(id, { type: "TRIM_HORIZON" }); // born after we subscribed: all of it is new
      else {
        const from = this.inbox.options.from ?? "latest";
        if (from === "latest") {
          // Nothing new will arrive in a closed shard; its open children start at LATEST.
          if (shard.SequenceNumberRange?.EndingSequenceNumber) this.finished.add(id);
          else this.positions.set(id, { type: "LATEST" });
        } else if (from === "earliest") this.positions.set(id, { type: "TRIM_HORIZON" });
        else this.positions.set(id, { type: "AT_TIMESTAMP", at: from });
      }
    }
    await this.startReadyShards(initial);
  }

  /** A shard is ready when each parent is read to its end or gone (past retention). */
  private parentsDone(shard: Shard): boolean {
    return [shard.ParentShardId, shard.AdjacentParentShardId].every((p) => !p || !this.shards.has(p) || this.finished.has(p));
  }

  private async startReadyShards(initial: boolean): Promise<void> {
    const starting: Promise<void>[] = [];
    for (const [id, shard] of this.shards) {
      if (this.started.has(id) || this.finished.has(id) || !this.parentsDone(shard)) continue;
      this.started.add(id);
      starting.push(
        this.startShard(id).catch((error) => {
          this.started.delete(id); // the next discovery tries again
          if (initial) throw error;
          if (!this.closed) this.report(toEventsError(error, this.options.stream, this.options.endpoint));
        }),
      );
    }
    const results = await Promise.allSettled(starting);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private async iterator(shardId: string): Promise<string> {
    const position = this.positions.get(shardId) ?? { type: "TRIM_HORIZON" };
    const out = await this.client.send(
      new GetShardIteratorCommand({
        ...streamParams(this.options.stream),
        ShardId: shardId,
        ShardIteratorType: position.type as ShardIteratorType,
        ...(position.type === "AT_TIMESTAMP" ? { Timestamp: position.at } : {}),
        ...(position.type === "AFTER_SEQUENCE_NUMBER" ? { StartingSequenceNumber: position.sequenceNumber } : {}),
      }),
      { abortSignal: this.abort.signal as never },
    );
    if (!out.ShardIterator) throw new Error(`no shard iterator for ${shardId}`);
    return out.ShardIterator;
  }

  private async startShard(shardId: string): Promise<void> {
    const iterator = await this.iterator(shardId);
    const loop = this.readShard(shardId, iterator).finally(() => this.loops.delete(loop));
    this.loops.add(loop);
  }

  private async readShard(shardId: string, first: string): Promise<void> {
    const { pollIntervalMs, readLimit } = this.options;
    let iterator: string | undefined = first;
    let failures = 0;
    while (!this.closed && iterator) {
      let page: GetRecordsCommandOutput;
      const polledAt = Date.now();
      try {
        page = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: readLimit }), {
          abortSignal: this.abort.signal as never,
        });
        failures = 0;
      } catch (error) {
        if (this.closed) return;
        const name = (error as { name?: string }).name;
        if (name === "ExpiredIteratorException") {
          // An iterator expires after five minutes without a successful read (a long outage). The new
          // one starts at the shard's position, never at LATEST again: see caughtUp().
          iterator = await this.iterator(shardId).catch(() => iterator);
        } else if (name !== "ProvisionedThroughputExceededException" && failures === 0) {
          // Report the first failure of a streak, not every poll of an outage.
          this.report(toEventsError(error, this.options.stream, this.options.endpoint), { source: this.stream });
        }
        failures++;
        await sleep(backoffDelay(failures, { baseMs: pollIntervalMs, maxMs: 30_000 }) + pollIntervalMs / 2, this.abort.signal);
        continue;
      }
      const records = page.Records ?? [];
      let last: string | undefined;
      for (const record of records) {
        if (this.closed) break;
        const outcome = await this.deliver(record.Data ?? new Uint8Array(), {
          source: this.stream,
          position: `${shardId}:${record.SequenceNumber}`,
        });
        // Closing before its handler finished: not checkpointed, so the next reader of the group gets it.
        if (outcome === "skipped") break;
        last = record.SequenceNumber;
      }
      // Saved also when closing: what the handler has seen is not delivered again (close waits for this).
      if (last !== undefined) {
        this.positions.set(shardId, { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: last });
        await this.save(shardId, { sequenceNumber: last });
      } else if (records.length === 0 && page.MillisBehindLatest === 0) this.caughtUp(shardId, polledAt);
      if (this.closed) return;
      iterator = page.NextShardIterator;
      if (!iterator) {
        // A closed shard read to its end: its children may start now.
        this.finished.add(shardId);
        await this.save(shardId, { ...(last ? { sequenceNumber: last } : {}), finished: true });
        if (!this.closed) this.refresh();
        return;
      }
      if (records.length === 0 || page.MillisBehindLatest === 0) await sleep(pollIntervalMs, this.abort.signal);
    }
  }

  /**
   * An empty page at the tip: everything that arrived before this poll was sent has been read. Until a
   * record was read (then AFTER_SEQUENCE_NUMBER is exact) that time is the position to come back to,
   * so a new iterator after an expiry does not restart at LATEST and skip what arrived during the
   * outage. It goes back CLOCK_MARGIN_MS for clock skew between us and Kinesis, whose arrival times
   * position AT_TIMESTAMP: that can only bring back records from just before the subscription began.
   * An empty page while behind (MillisBehindLatest > 0) says nothing about time and changes nothing.
   */
  private caughtUp(shardId: string, polledAt: number): void {
    if (this.positions.get(shardId)?.type === "AFTER_SEQUENCE_NUMBER") return;
    this.positions.set(shardId, { type: "AT_TIMESTAMP", at: new Date(polledAt - CLOCK_MARGIN_MS) });
  }

  private async save(shardId: string, checkpoint: { sequenceNumber?: string; finished?: boolean }): Promise<void> {
    try {
      await this.store.save(this.key(shardId), checkpoint);
    } catch (cause) {
      this.report(
        new EventsError({
          backend: BACKEND,
          code: "CHECKPOINT_FAILED",
          message: `[kinesis] checkpoint store failed: ${(cause as Error)?.message}`,
          cause,
        }),
      );
    }
  }

  /**
   * One stream carries every topic, so records of topics this subscription did not ask for (valid or
   * not) are skipped here without a report — they are another consumer's. The rest goes to the base.
   */
  private deliver(data: Uint8Array, context: MessageContext): Promise<DeliveryOutcome | "ignored"> {
    const raw = Buffer.from(data).toString("utf8");
    const parsed = safeParseEvent(raw);
    if (!parsed.ok) {
      const type = typeOf(raw);
      if (isTopicName(type) && !this.wanted.has(type)) return Promise.resolve("ignored");
      return this.inbox.deliver(raw, context);
    }
    const event = parsed.event;
    if (!this.wanted.has(event.type)) return Promise.resolve("ignored");
    if (this.since !== undefined && Date.parse(event.time) < this.since) return Promise.resolve("ignored");
    return this.inbox.deliverEvent(event, context, raw);
  }

  private report(error: EventsError, context?: MessageContext): void {
    this.inbox.report({ error, ...(context ? { context } : {}) });
  }
}

function typeOf(raw: string): unknown {
  try {
    return (JSON.parse(raw) as { type?: unknown } | null)?.type;
  } catch {
    return undefined;
  }
}

export function createKinesisSubscriber(options: KinesisSubscriberOptions, context: KinesisSubscriberContext = {}): KinesisSubscriber {
  return new KinesisSubscriber(options, context);
}
