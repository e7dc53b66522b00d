// Reads events back, each subscription on its own connection; core's SubscriberBase is the shell (the
// checks, parse → handler contract → onError, close), this file only the transport loops. Pub/sub:
// SUBSCRIBE to the topics' channels; ioredis resubscribes after a reconnect; events published while
// disconnected are gone. Streams: a consumer group per subscription (XREADGROUP), each entry
// acknowledged as soon as its handler is done (so a peer's XAUTOCLAIM never takes over an entry
// already handled), and entries a dead consumer left pending longer than REDIS_CLAIM_IDLE_MS are
// taken over with XAUTOCLAIM.

import { hostname } from "node:os";
import {
  backoffDelay,
  ConfigError,
  EventsError,
  type Inbox,
  type Logger,
  queueFullError,
  SubscriberBase,
  type SubscriberContext,
  sleep,
  type TopicName,
  type TransportSubscription,
} from "@kaireon/events-core/backend";
import type { Redis } from "ioredis";
import { BACKEND, createClient, keyOf, safeText, toEventsError } from "./redis-client.js";
import { type RedisConfig, type RedisOptions, resolveRedisConfig } from "./redis-options.js";
import { groupStartId } from "./redis-stream-ids.js";

/** Core's SubscriberContext: the logger. */
export type RedisSubscriberContext = SubscriberContext;

export class RedisSubscriber extends SubscriberBase {
  private readonly options: RedisOptions;

  constructor(config: RedisConfig, context: RedisSubscriberContext = {}) {
    super({ backend: BACKEND, ...(context.logger ? { logger: context.logger } : {}) });
    this.options = resolveRedisConfig(config);
  }

  protected open(inbox: Inbox): Promise<TransportSubscription> {
    return this.options.mode === "streams"
      ? StreamReader.start(this.options, this.logger, inbox)
      : PubSubReader.start(this.options, this.logger, inbox);
  }
}

// How long close() gives the last acknowledgements and QUIT before it cuts the connection: with Redis
// down ioredis would hold them (and close()) until it is back.
const CLOSE_GRACE_MS = 2_000;

/** QUIT within the grace period, else (or when not connected) drop the connection. */
async function closeClient(client: Redis): Promise<void> {
  if (client.status !== "ready") {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const quit = client.quit().then(
    () => true,
    () => false,
  );
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, CLOSE_GRACE_MS, false);
  });
  const clean = await Promise.race([quit, late]);
  clearTimeout(timer);
  if (!clean) client.disconnect();
}

// Messages received and waiting for a pub/sub handler, at most.
const MAX_QUEUED_MESSAGES = 10_000;

class PubSubReader implements TransportSubscription {
  private queued = 0;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly client: Redis) {}

  static async start(options: RedisOptions, logger: Logger, inbox: Inbox): Promise<PubSubReader> {
    const from = inbox.options.from;
    if (from !== undefined && from !== "latest") {
      throw new ConfigError({
        backend: BACKEND,
        message: "[redis] pub/sub keeps no events, so it cannot replay (from: earliest or a time) — set REDIS_MODE=streams for replay",
        details: { variable: "REDIS_MODE" },
      });
    }
    const client = createClient(options, "subscriber", logger);
    const reader = new PubSubReader(client);
    const channels = inbox.topics.map((topic) => keyOf(options, topic));
    client.on("message", (channel: string, message: string) => {
      if (inbox.signal.aborted) return;
      // Pub/sub has no backpressure: a handler slower than the publishers would queue messages here
      // without end. Beyond the bound they are dropped and reported (streams mode has no such limit).
      if (reader.queued >= MAX_QUEUED_MESSAGES) {
        inbox.report({
          error: queueFullError({
            backend: BACKEND,
            limit: MAX_QUEUED_MESSAGES,
            waitingFor: "handler",
            fix: "make the handler faster or use REDIS_MODE=streams",
          }),
          raw: message,
          context: { source: channel },
        });
        return;
      }
      reader.queued++;
      // One message at a time, in arrival order, like a broker consumer.
      reader.chain = reader.chain.then(() => {
        reader.queued--;
        return inbox.deliver(message, { source: channel });
      });
    });
    try {
      await client.connect();
      await client.subscribe(...channels);
    } catch (error) {
      client.disconnect();
      throw toEventsError(options, error);
    }
    return reader;
  }

  async close(): Promise<void> {
    // The inbox is aborted already: queued messages are skipped; the base waits for the one running.
    await closeClient(this.client);
  }
}

// Entries read per XREADGROUP / XAUTOCLAIM call, and how long one XREADGROUP blocks.
const READ_COUNT = 100;
const BLOCK_MS = 2_000;

type StreamEntry = [id: string, fields: string[] | null];

/** Rejects a Redis call's wait when the subscription closes (the command itself may still land). */
class Closed extends Error {}

class StreamReader implements TransportSubscription {
  private reading = false;
  private loop: Promise<void> = Promise.resolve();
  private lastClaim = 0;
  private readonly keys: string[];
  private readonly consumer: string;
  private readonly group: string;
  /** Acknowledgements not yet sent, per stream key: those finished in the same turn go in one XACK. */
  private readonly toAck = new Map<string, string[]>();
  private ackScheduled = false;
  private readonly acking = new Set<Promise<unknown>>();

  private constructor(
    private readonly options: RedisOptions,
    private readonly logger: Logger,
    private readonly client: Redis,
    private readonly inbox: Inbox,
  ) {
    this.keys = inbox.topics.map((topic: TopicName) => keyOf(options, topic));
    this.group = inbox.options.group ?? options.consumerGroup;
    this.consumer = options.consumerName ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  }

  static async start(options: RedisOptions, logger: Logger, inbox: Inbox): Promise<StreamReader> {
    const client = createClient(options, "subscriber", logger);
    const reader = new StreamReader(options, logger, client, inbox);
    try {
      await client.connect();
      await reader.ensureGroups(groupStartId(inbox.options.from));
    } catch (error) {
      client.disconnect();
      throw toEventsError(options, error);
    }
    reader.loop = reader.run();
    return reader;
  }

  /** The wait for `command`, given up when the subscription closes. */
  private whileOpen<T>(command: Promise<T>): Promise<T> {
    const { signal } = this.inbox;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new Closed());
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      command.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
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
    const { signal } = this.inbox;
    while (!signal.aborted) {
      try {
        if (Date.now() - this.lastClaim >= Math.min(this.options.claimIdleMs, 30_000)) await this.claimAbandoned();
        this.reading = true;
        const reply = (await this.whileOpen(
          this.client.xreadgroup(
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
          ),
        )) as Array<[string, StreamEntry[]]> | null;
        this.reading = false;
        for (const [key, entries] of reply ?? []) await this.process(key, entries);
        failures = 0;
      } catch (error) {
        this.reading = false;
        if (signal.aborted || error instanceof Closed) break;
        const message = (error as Error)?.message ?? String(error);
        if (/NOGROUP/.test(message)) {
          // The server lost the group (restarted without persistence, stream deleted): recreate it
          // from the start of whatever the stream holds now, so nothing added since is skipped.
          await this.whileOpen(this.ensureGroups("0")).catch(() => {});
          continue;
        }
        failures++;
        if (failures === 1) this.logger.warn(`[redis] stream read failed, retrying: ${safeText(this.options, message)}`);
        await sleep(backoffDelay(failures, { baseMs: 100, maxMs: 2_000 }) + 50, signal);
      }
    }
  }

  /** XAUTOCLAIM: takes over entries another consumer of the group read and never acknowledged. */
  private async claimAbandoned(): Promise<void> {
    this.lastClaim = Date.now();
    for (const key of this.keys) {
      let cursor = "0-0";
      // Bounded: a few pages per pass; the next pass continues with what is left.
      for (let page = 0; page < 10 && !this.inbox.signal.aborted; page++) {
        const [next, entries, deleted] = (await this.whileOpen(
          this.client.xautoclaim(key, this.group, this.consumer, this.options.claimIdleMs, cursor, "COUNT", READ_COUNT),
        )) as [string, StreamEntry[], string[]?];
        // Entries trimmed by MAXLEN while pending cannot be delivered any more; stop tracking them.
        for (const id of deleted ?? []) this.ack(key, id);
        await this.process(key, entries);
        if (next === "0-0") break;
        cursor = next;
      }
    }
  }

  private async process(key: string, entries: StreamEntry[]): Promise<void> {
    for (const [id, fields] of entries) {
      if (this.inbox.signal.aborted) break;
      if (fields) {
        const at = fields.indexOf("event");
        const raw = at >= 0 && at % 2 === 0 ? fields[at + 1] : JSON.stringify(fields);
        const outcome = await this.inbox.deliver(raw, { source: key, position: id });
        // Not run (closing): left pending, so this group gets it again.
        if (outcome === "skipped") break;
      }
      // Acknowledged also when the handler failed (HANDLER_FAILED went to onError): one bad event must
      // not come back forever. A consumer that dies mid-handler leaves it pending for XAUTOCLAIM.
      this.ack(key, id);
    }
  }

  /** Queues `id` for XACK; sent at the end of this turn with whatever else finished in it. */
  private ack(key: string, id: string): void {
    const ids = this.toAck.get(key);
    if (ids) ids.push(id);
    else this.toAck.set(key, [id]);
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    queueMicrotask(() => this.sendAcks());
  }

  private sendAcks(): void {
    this.ackScheduled = false;
    for (const [key, ids] of this.toAck) {
      const sent = this.client.xack(key, this.group, ...ids).catch((error: unknown) => {
        // The entries stay pending: this group gets them again (XAUTOCLAIM), at least once.
        this.inbox.report({
          error: new EventsError({
            backend: BACKEND,
            code: "ACK_FAILED",
            message: `[redis] XACK of ${ids.length} entr${ids.length === 1 ? "y" : "ies"} on ${key} failed (${toEventsError(this.options, error).message}); they stay pending and will be delivered again`,
            details: { ids },
          }),
          context: { source: key },
        });
      });
      this.acking.add(sent);
      void sent.finally(() => this.acking.delete(sent));
    }
    this.toAck.clear();
  }

  async close(): Promise<void> {
    // The inbox is aborted: the loop stops waiting for Redis at once. A blocked XREADGROUP would hold
    // QUIT for up to BLOCK_MS, so that connection is cut instead. A handler in progress finishes and is
    // acknowledged first (within the grace period).
    if (this.reading) this.client.disconnect();
    await this.loop;
    if (this.ackScheduled) this.sendAcks();
    if (this.acking.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.acking]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, CLOSE_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    await closeClient(this.client);
  }
}

export function createRedisSubscriber(config: RedisConfig, context: RedisSubscriberContext = {}): RedisSubscriber {
  return new RedisSubscriber(config, context);
}
