// Reads events back, each subscription on its own connection. Pub/sub: SUBSCRIBE to the topics'
// channels; ioredis resubscribes after a reconnect; events published while disconnected are gone.
// Streams: a consumer group per subscription (XREADGROUP, XACK after the handler), and entries a
// dead consumer left pending longer than REDIS_CLAIM_IDLE_MS are taken over with XAUTOCLAIM.
// A malformed message or a failing handler goes to onError and the subscription goes on.

import { hostname } from "node:os";
import {
  backoffDelay,
  ConfigError,
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
import type { Redis } from "ioredis";
import { BACKEND, createClient, keyOf, safeText, toEventsError } from "./redis-client.js";
import { type RedisConfig, type RedisOptions, resolveRedisConfig } from "./redis-options.js";
import { groupStartId } from "./redis-stream-ids.js";

export interface RedisSubscriberContext {
  logger?: Logger;
}

type OnError = (failure: SubscriptionError) => void;

function handlerFailed(cause: unknown): EventsError {
  return EventsError.isInstance(cause)
    ? cause
    : new EventsError({ code: "HANDLER_FAILED", backend: BACKEND, message: `[redis] handler failed: ${(cause as Error)?.message}`, cause });
}

export class RedisSubscriber implements Subscriber {
  readonly backend = BACKEND;
  private readonly logger: Logger;
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  private readonly options: RedisOptions;

  constructor(config: RedisConfig, context: RedisSubscriberContext = {}) {
    this.options = resolveRedisConfig(config);
    this.logger = context.logger ?? consoleLogger;
  }

  async subscribe(topics: readonly TopicName[], handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.closed) {
      throw new EventsError({ code: "SUBSCRIBER_CLOSED", backend: BACKEND, message: "[redis] subscriber is closed — create a new one" });
    }
    if (topics.length === 0) throw new ConfigError({ backend: BACKEND, message: "[redis] subscribe() needs at least one topic" });
    const onError: OnError =
      options.onError ??
      ((f) => this.logger.warn(`[redis] subscriber error: ${f.error.message}`, { code: f.error.code, source: f.context?.source }));
    const subscription =
      this.options.mode === "streams"
        ? await StreamSubscription.start(this.options, this.logger, topics, handler, options, onError)
        : await PubSubSubscription.start(this.options, this.logger, topics, handler, options, onError);
    const tracked: Subscription = {
      topics: subscription.topics,
      close: async () => {
        this.subscriptions.delete(tracked);
        await subscription.close();
      },
    };
    this.subscriptions.add(tracked);
    return tracked;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
  }
}

/** Parses one message and runs the handler; never throws. */
async function handle(raw: string | undefined, context: MessageContext, handler: EventHandler, onError: OnError): Promise<void> {
  const parsed = safeParseEvent(raw ?? "");
  if (!parsed.ok) {
    const failure: SubscriptionError = { error: parsed.error, context };
    if (raw !== undefined) failure.raw = raw;
    report(onError, failure);
    return;
  }
  try {
    await handler(parsed.event as DomainEvent, context);
  } catch (cause) {
    report(onError, { error: handlerFailed(cause), context });
  }
}

function report(onError: OnError, failure: SubscriptionError): void {
  try {
    onError(failure);
  } catch {
    // An error callback that throws must not stop the subscription either.
  }
}

// Messages received and waiting for a pub/sub handler, at most.
const MAX_QUEUED_MESSAGES = 10_000;

class PubSubSubscription implements Subscription {
  private open = true;
  private queued = 0;
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: Redis,
    readonly topics: readonly TopicName[],
  ) {}

  static async start(
    options: RedisOptions,
    logger: Logger,
    topics: readonly TopicName[],
    handler: EventHandler,
    subscribeOptions: SubscribeOptions,
    onError: OnError,
  ): Promise<PubSubSubscription> {
    if (subscribeOptions.from !== undefined && subscribeOptions.from !== "latest") {
      throw new ConfigError({
        backend: BACKEND,
        message: "[redis] pub/sub keeps no events, so it cannot replay (from: earliest or a time) — set REDIS_MODE=streams for replay",
        details: { variable: "REDIS_MODE" },
      });
    }
    const client = createClient(options, "subscriber", logger);
    const subscription = new PubSubSubscription(client, [...topics]);
    const channels = new Map(topics.map((topic) => [keyOf(options, topic), topic]));
    client.on("message", (channel: string, message: string) => {
      if (!subscription.open) return;
      const context: MessageContext = { source: channel };
      // Pub/sub has no backpressure: a handler slower than the publishers would queue messages here
      // without end. Beyond the bound they are dropped and reported (streams mode has no such limit).
      if (subscription.queued >= MAX_QUEUED_MESSAGES) {
        report(onError, {
          error: new EventsError({
            code: "QUEUE_FULL",
            backend: BACKEND,
            message: `[redis] ${MAX_QUEUED_MESSAGES} messages are waiting for the handler; this one was dropped — make the handler faster or use REDIS_MODE=streams`,
          }),
          raw: message,
          context,
        });
        return;
      }
      subscription.queued++;
      // One message at a time, in arrival order, like a broker consumer.
      subscription.chain = subscription.chain.then(async () => {
        subscription.queued--;
        if (subscription.open) await handle(message, context, handler, onError);
      });
    });
    try {
      await client.connect();
      await client.subscribe(...channels.keys());
    } catch (error) {
      client.disconnect();
      throw toEventsError(options, error);
    }
    return subscription;
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.chain;
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

// Entries read per XREADGROUP / XAUTOCLAIM call, and how long one XREADGROUP blocks.
const READ_COUNT = 100;
const BLOCK_MS = 2_000;

type StreamEntry = [id: string, fields: string[] | null];

class StreamSubscription implements Subscription {
  private open = true;
  private reading = false;
  private loop: Promise<void> = Promise.resolve();
  private lastClaim = 0;
  private readonly keys: string[];
  private readonly topicOf: Map<string, TopicName>;
  private readonly consumer: string;

  private constructor(
    private readonly options: RedisOptions,
    private readonly logger: Logger,
    private readonly client: Redis,
    readonly topics: readonly TopicName[],
    private readonly group: string,
    private readonly handler: EventHandler,
    private readonly onError: OnError,
  ) {
    this.topicOf = new Map(topics.map((topic) => [keyOf(options, topic), topic]));
    this.keys = [...this.topicOf.keys()];
    this.consumer = options.consumerName ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  }

  static async start(
    options: RedisOptions,
    logger: Logger,
    topics: readonly TopicName[],
    handler: EventHandler,
    subscribeOptions: SubscribeOptions,
    onError: OnError,
  ): Promise<StreamSubscription> {
    const group = subscribeOptions.group ?? options.consumerGroup;
    const client = createClient(options, "subscriber", logger);
    const subscription = new StreamSubscription(options, logger, client, [...topics], group, handler, onError);
    try {
      await client.connect();
      await subscription.ensureGroups(groupStartId(subscribeOptions.from));
    } catch (error) {
      client.disconnect();
      throw toEventsError(options, error);
    }
    subscription.loop = subscription.run();
    return subscription;
  }

  /** Creates the group on each stream (and the stream itself) unless it exists: then `from` is ignored. */
  private async ensureGroups(startId: string): Promise<void> {
    for (const key of this.keys) {
      try {
        await this.client.xgroup("CREATE", key, this.group, startId, "MKSTREAM");
      } catch (error) {
        if (!/BUSYGROUP/.test((error as Error).message)) throw error;
      }
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.open) {
      try {
        if (Date.now() - this.lastClaim >= Math.min(this.options.claimIdleMs, 30_000)) await this.claimAbandoned();
        this.reading = true;
        const reply = (await this.client.xreadgroup(
          "GROUP",
          this.group,
          this.consumer,
          "COUNT",
          READ_COUNT,
          "BLOCK",
          BLOCK_MS,
          "STREAMS",
          ...this.keys,
          ...this.keys.map(() => ">"),
        )) as Array<[string, StreamEntry[]]> | null;
        this.reading = false;
        for (const [key, entries] of reply ?? []) await this.process(key, entries);
        failures = 0;
      } catch (error) {
        this.reading = false;
        if (!this.open) break;
        const message = (error as Error)?.message ?? String(error);
        if (/NOGROUP/.test(message)) {
          // The server lost the group (restarted without persistence, stream deleted): recreate it
          // from the start of whatever the stream holds now, so nothing added since is skipped.
          await this.ensureGroups("0").catch(() => {});
          continue;
        }
        failures++;
        if (failures === 1) this.logger.warn(`[redis] stream read failed, retrying: ${safeText(this.options, message)}`);
        await sleep(backoffDelay(failures, { baseMs: 100, maxMs: 2_000 }) + 50);
      }
    }
  }

  /** XAUTOCLAIM: takes over entries another consumer of the group read and never acknowledged. */
  private async claimAbandoned(): Promise<void> {
    this.lastClaim = Date.now();
    for (const key of this.keys) {
      let cursor = "0-0";
      // Bounded: a few pages per pass; the next pass continues with what is left.
      for (let page = 0; page < 10 && this.open; page++) {
        const [next, entries, deleted] = (await this.client.xautoclaim(
          key,
          this.group,
          this.consumer,
          this.options.claimIdleMs,
          cursor,
          "COUNT",
          READ_COUNT,
        )) as [string, StreamEntry[], string[]?];
        // Entries trimmed by MAXLEN while pending cannot be delivered any more; stop tracking them.
        if (deleted && deleted.length > 0) await this.client.xack(key, this.group, ...deleted);
        await this.process(key, entries);
        if (next === "0-0") break;
        cursor = next;
      }
    }
  }

  private async process(key: string, entries: StreamEntry[]): Promise<void> {
    const done: string[] = [];
    for (const [id, fields] of entries) {
      if (!this.open) break;
      if (fields) {
        const at = fields.indexOf("event");
        const raw = at >= 0 && at % 2 === 0 ? fields[at + 1] : JSON.stringify(fields);
        await handle(raw, { source: key, position: id }, this.handler, this.onError);
      }
      // Acknowledged also when the handler failed (reported through onError): one bad event must
      // not come back forever. A consumer that dies mid-handler leaves it pending for XAUTOCLAIM.
      done.push(id);
    }
    if (done.length > 0) await this.client.xack(key, this.group, ...done);
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    // A blocked XREADGROUP would hold close() for up to BLOCK_MS: cut the connection instead. A
    // handler in progress finishes and is acknowledged first.
    if (this.reading) this.client.disconnect();
    await this.loop;
    if (this.client.status === "ready") await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }
}

export function createRedisSubscriber(config: RedisConfig, context: RedisSubscriberContext = {}): RedisSubscriber {
  return new RedisSubscriber(config, context);
}
