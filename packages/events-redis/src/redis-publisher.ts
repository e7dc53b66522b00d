// Publishes envelopes over one ioredis connection: PUBLISH on `<prefix><topic>` (pub/sub, the
// default) or XADD MAXLEN ~ (streams). Concurrent publishes and publishBatch go through one path,
// core's Batcher, into pipelines (one round trip each), and what waits for Redis is bounded: at most
// REDIS_MAX_PENDING queued (then QUEUE_FULL) plus the pipelines in flight, and every publish settles
// within REDIS_PUBLISH_TIMEOUT_MS — ioredis's offline queue is off, so nothing piles up while Redis is
// down. A publishBatch larger than REDIS_MAX_PENDING is worked through as pipelines go out.

import {
  type Batcher,
  ConnectionError,
  type Delivery,
  type DomainEvent,
  type ItemOutcome,
  type Logger,
  PublishError,
  PublisherBase,
  type ReadinessReport,
  serializeEvent,
} from "@kaireon/events-core";
import type { Redis } from "ioredis";
import { BACKEND, createClient, describeServer, isAuthError, keyOf, safeText, toEventsError } from "./redis-client.js";
import { type RedisConfig, type RedisOptions, resolveRedisConfig } from "./redis-options.js";

interface Outgoing {
  key: string;
  json: string;
  /** When it was accepted: a pipeline is given up when its newest entry's time is up. */
  at: number;
}

export interface RedisPublisherContext {
  source?: string;
  logger?: Logger;
}

// Two pipelines in flight: the next one fills while the previous one is on the wire. One connection
// writes them in order, so events of one key (of any key) keep publish order.
const PIPELINES_IN_FLIGHT = 2;

export class RedisPublisher extends PublisherBase {
  /** The ioredis connection (for metrics or tests). Do not send commands on it. */
  readonly client: Redis;
  private readonly batcher: Batcher<Outgoing, Delivery>;
  private lastError: Error | undefined;

  private readonly options: RedisOptions;

  constructor(config: RedisConfig, context: RedisPublisherContext = {}) {
    super({ backend: BACKEND, ...context });
    const options = resolveRedisConfig(config);
    this.options = options;
    this.client = createClient(options, "publisher", this.logger);
    // Remembered so a publish that gave up waiting can say why (a wrong password is AUTH_FAILED).
    this.client.on("error", (error: Error) => {
      this.lastError = error;
    });
    this.client.on("ready", () => {
      this.lastError = undefined;
    });
    this.client.connect().catch(() => {
      // Reported by the client's error listener; publishes wait for `ready` within their bound.
    });
    this.batcher = this.useBatcher<Outgoing, Delivery>({
      backend: BACKEND,
      // The newest entry's deadline: older ones are settled by the Batcher at their own.
      send: (items) => this.sendPipeline(items, (items[items.length - 1]?.at ?? Date.now()) + options.publishTimeoutMs),
      maxBatchSize: options.pipelineSize,
      lingerMs: 0,
      maxQueued: options.maxPending,
      maxQueuedName: "REDIS_MAX_PENDING",
      maxInFlight: PIPELINES_IN_FLIGHT,
      timeoutMs: options.publishTimeoutMs,
    });
  }

  get mode(): RedisOptions["mode"] {
    return this.options.mode;
  }

  protected deliver(event: DomainEvent): Promise<Delivery> {
    return this.batcher.add(this.outgoing(event, Date.now()));
  }

  /**
   * publishBatch: the same Batcher, so the same bounds and pipelines. A batch larger than
   * REDIS_MAX_PENDING is accepted while there is room and worked through as pipelines go out, each
   * event settled within REDIS_PUBLISH_TIMEOUT_MS; with no room at all it fails with QUEUE_FULL.
   */
  protected override deliverBatch(events: readonly DomainEvent[]): Promise<ItemOutcome<Delivery>[]> {
    const now = Date.now();
    return this.batcher.addAll(events.map((event) => this.outgoing(event, now)));
  }

  private outgoing(event: DomainEvent, at: number): Outgoing {
    return { key: keyOf(this.options, event.type), json: serializeEvent(event), at };
  }

  /**
   * One pipeline, bounded by `deadline`: it waits for the connection at most until then, and if
   * Redis has not answered by then every entry fails with PUBLISH_TIMEOUT and the connection is
   * dropped and re-opened — an unresponsive server must not collect commands without bound.
   */
  private async sendPipeline(items: Outgoing[], deadline: number): Promise<ItemOutcome<Delivery>[]> {
    await this.whenConnected(deadline);
    const pipeline = this.client.pipeline();
    const streams = this.options.mode === "streams";
    if (streams) {
      const maxLen = this.options.streamMaxLen;
      for (const { key, json } of items) pipeline.xadd(key, "MAXLEN", "~", maxLen, "*", "event", json);
    } else {
      for (const { key, json } of items) pipeline.publish(key, json);
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, Math.max(1, deadline - Date.now()), undefined);
    });
    let replies: Awaited<ReturnType<typeof pipeline.exec>> | undefined;
    try {
      replies = await Promise.race([pipeline.exec(), timedOut]);
    } catch (error) {
      // The connection went away between the check and the write: coded, and without the raw error.
      throw toEventsError(this.options, error);
    } finally {
      clearTimeout(timer);
    }
    if (replies === undefined) {
      if (this.client.status === "ready") {
        this.logger.warn(`[redis] ${describeServer(this.options)} did not answer a pipeline in time; reconnecting`);
        this.client.disconnect(true);
      }
      const error = new PublishError({
        backend: BACKEND,
        code: "PUBLISH_TIMEOUT",
        message: `[redis] no reply from ${describeServer(this.options)} within REDIS_PUBLISH_TIMEOUT_MS (${this.options.publishTimeoutMs} ms); the event may or may not have been sent`,
        details: { sent: "unknown" },
      });
      return items.map(() => ({ ok: false, error }));
    }
    return items.map((_, i): ItemOutcome<Delivery> => {
      const [error, reply] = replies?.[i] ?? [new Error("no reply for this command")];
      if (error) return { ok: false, error: toEventsError(this.options, error) };
      return { ok: true, value: streams ? { position: String(reply) } : { receivers: Number(reply) } };
    });
  }

  /** Waits (bounded by `deadline`) for the connection; ioredis reconnects on its own meanwhile. */
  private whenConnected(deadline: number): Promise<void> {
    const { client } = this;
    if (client.status === "ready") return Promise.resolve();
    if (client.status === "end") return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(
        () => {
          client.off("ready", onReady);
          reject(
            this.lastError && isAuthError(this.lastError)
              ? toEventsError(this.options, this.lastError)
              : new ConnectionError({
                  backend: BACKEND,
                  message: `[redis] not connected to ${describeServer(this.options)} (${client.status}) — check REDIS_URL and that Redis is running; the event was not sent`,
                  details: { sent: false },
                }),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      client.once("ready", onReady);
    });
  }

  protected override async release(): Promise<void> {
    if (this.client.status === "ready") {
      await this.client.quit().catch(() => this.client.disconnect());
    } else {
      this.client.disconnect();
    }
  }

  async ready(): Promise<ReadinessReport> {
    const where = describeServer(this.options);
    if (this.closed) return { ready: false, backend: BACKEND, detail: "publisher is closed" };
    if (this.client.status !== "ready") {
      const why = this.lastError ? `: ${safeText(this.options, this.lastError.message)}` : "";
      return { ready: false, backend: BACKEND, detail: `not connected to ${where} (${this.client.status})${why}` };
    }
    try {
      await this.client.ping();
      return { ready: true, backend: BACKEND, detail: `${this.options.mode} on ${where}` };
    } catch (error) {
      return {
        ready: false,
        backend: BACKEND,
        detail: `${where} did not answer PING: ${safeText(this.options, (error as Error).message)}`,
      };
    }
  }
}

export function createRedisPublisher(config: RedisConfig, context: RedisPublisherContext = {}): RedisPublisher {
  return new RedisPublisher(config, context);
}
