// Publishes envelopes over one ioredis connection: PUBLISH on `<prefix><topic>` (pub/sub, the
// default) or XADD MAXLEN ~ (streams). Concurrent publishes and publishBatch go through one path,
// core's Batcher, into pipelines (one round trip each) — of script calls that publish up to
// REDIS_SCRIPT_SIZE messages each (REDIS_SEND_MODE=script, the default), or of one command per
// message (REDIS_SEND_MODE=pipeline, and wherever the server refuses scripting), and what waits for Redis is bounded: at most
// REDIS_MAX_PENDING queued (then QUEUE_FULL) plus the pipelines in flight, and every publish settles
// within REDIS_PUBLISH_TIMEOUT_MS — ioredis's offline queue is off, so nothing piles up while Redis is
// down. A publishBatch larger than REDIS_MAX_PENDING is worked through as pipelines go out.

import {
  type Batcher,
  ConnectionError,
  type Delivery,
  type DomainEvent,
  type EventsError,
  type ItemOutcome,
  PublishError,
  PublisherBase,
  type PublisherContext,
  type ReadinessReport,
  serializeEvent,
} from "@kaireon/events-core/backend";
import type { Redis } from "ioredis";
import { BACKEND, createClient, describeServer, isAuthError, keyOf, safeText, toEventsError } from "./redis-client.js";
import { type RedisConfig, type RedisOptions, resolveRedisConfig } from "./redis-options.js";
import { isNoScript, isScriptingRefused, PUBLISH_SCRIPT, repliesOf, scriptArgs, XADD_SCRIPT } from "./redis-scripts.js";

interface Outgoing {
  /** The event itself while telemetry is registered (its send span links to its creation context). */
  event: DomainEvent | undefined;
  /** The event's id and type, for its PublishResult. */
  id: string;
  type: DomainEvent["type"];
  key: string;
  json: string;
  /** When it was accepted: a pipeline is given up when its newest entry's time is up. */
  at: number;
}

/** Core's PublisherContext: the CloudEvents source and the logger. */
export type RedisPublisherContext = PublisherContext;

// Two pipelines in flight: the next one fills while the previous one is on the wire. One connection
// writes them in order, so events of one key (of any key) keep publish order.
const PIPELINES_IN_FLIGHT = 2;

export class RedisPublisher extends PublisherBase {
  /** The ioredis connection (for metrics or tests). Do not send commands on it. */
  readonly client: Redis;
  private readonly batcher: Batcher<Outgoing, Delivery>;
  private lastError: Error | undefined;
  /** Script mode until the server refuses scripting (then plain pipelines, for good). */
  private scripting: boolean;
  /** The SCRIPT LOAD under way or done; undefined before the first and after NOSCRIPT. */
  private loading: Promise<boolean> | undefined;
  /** The current SCRIPT LOAD has answered (false again from a NOSCRIPT, or a closed connection, until the next load has). */
  private scriptReady = false;

  private readonly options: RedisOptions;
  /** The channel or stream key per topic, made once (not a new string per event). */
  private readonly keys = new Map<string, string>();

  constructor(config: RedisConfig, context: RedisPublisherContext = {}) {
    super({ backend: BACKEND, ...context });
    const options = resolveRedisConfig(config);
    this.options = options;
    this.scripting = options.sendMode === "script";
    this.client = createClient(options, "publisher", this.logger);
    // Remembered so a publish that gave up waiting can say why (a wrong password is AUTH_FAILED).
    this.client.on("error", (error: Error) => {
      this.lastError = error;
    });
    this.client.on("ready", () => {
      this.lastError = undefined;
    });
    // A new connection may reach a server without the script (a restart, a failover): the first
    // batch after it loads the script before anything is sent, and the batches formed meanwhile wait
    // for that load, instead of each meeting NOSCRIPT and being sent again.
    this.client.on("close", () => this.forgetScript());
    this.client.connect().catch(() => {
      // Reported by the client's error listener; publishes wait for `ready` within their bound.
    });
    this.batcher = this.useBatcher<Outgoing, Delivery>({
      backend: BACKEND,
      // The newest entry's deadline: older ones are settled by the Batcher at their own.
      send: (items) => this.sendBatch(items, (items[items.length - 1]?.at ?? Date.now()) + options.publishTimeoutMs),
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

  /** publish()/publishEvent() queue this item themselves (see PublisherBase.batchItem). */
  protected override batchItem(event: DomainEvent): Outgoing {
    return this.outgoing(event, Date.now());
  }

  private outgoing(event: DomainEvent, at: number): Outgoing {
    const { id, type } = event;
    return { event: this.spanEvent(event), id, type, key: this.destinationOf(event), json: serializeEvent(event), at };
  }

  protected override destinationOf(event: DomainEvent): string {
    let key = this.keys.get(event.type);
    if (key === undefined) {
      key = keyOf(this.options, event.type);
      this.keys.set(event.type, key);
    }
    return key;
  }

  /**
   * One batch, bounded by `deadline`: it waits for the connection at most until then, and if Redis
   * has not answered by then every entry fails with PUBLISH_TIMEOUT and the connection is dropped and
   * re-opened — an unresponsive server must not collect commands without bound.
   */
  private async sendBatch(items: Outgoing[], deadline: number): Promise<ItemOutcome<Delivery>[]> {
    // Written in the call that formed it when there is nothing to wait for — connected, and the
    // script loaded (not reloading) — so a full batch goes out while its caller is still publishing
    // (a loop of publishes, a large publishBatch) instead of after its synchronous work. A batch
    // that does wait waits on that connection or that load, as every batch formed meanwhile does,
    // and they resume in the order they came; none is written at once before the wait is over.
    const waits = this.client.status !== "ready" || (this.scripting && !this.scriptReady);
    if (waits) await this.whenConnected(deadline);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, Math.max(1, deadline - Date.now()), undefined);
    });
    let outcomes: ItemOutcome<Delivery>[] | undefined;
    try {
      outcomes = await Promise.race([this.scripting ? this.viaScripts(items, waits) : this.viaPipeline(items), timedOut]);
    } catch (error) {
      // The connection went away between the check and the write: coded, and without the raw error.
      throw toEventsError(this.options, error);
    } finally {
      clearTimeout(timer);
    }
    if (outcomes === undefined) {
      if (this.client.status === "ready") {
        this.logger.warn(`[redis] ${describeServer(this.options)} did not answer a pipeline in time; reconnecting`);
        this.client.disconnect(true);
      }
      const error = new PublishError({
        backend: BACKEND,
        code: "PUBLISH_TIMEOUT",
        message: `[redis] no reply from ${describeServer(this.options)} within REDIS_PUBLISH_TIMEOUT_MS (${this.options.publishTimeoutMs} ms); the event may or may not have been sent`,
        sent: "unknown",
      });
      return items.map(() => ({ ok: false, error }));
    }
    return outcomes;
  }

  /** REDIS_SEND_MODE=pipeline, and the fallback: one PUBLISH or XADD per message, one pipeline. */
  private async viaPipeline(items: readonly Outgoing[]): Promise<ItemOutcome<Delivery>[]> {
    const pipeline = this.client.pipeline();
    const streams = this.options.mode === "streams";
    if (streams) {
      const maxLen = this.options.streamMaxLen;
      for (const { key, json } of items) pipeline.xadd(key, "MAXLEN", "~", maxLen, "*", "event", json);
    } else {
      for (const { key, json } of items) pipeline.publish(key, json);
    }
    const replies = await pipeline.exec();
    return items.map((_, i): ItemOutcome<Delivery> => {
      const [error, reply] = replies?.[i] ?? [new Error("no reply for this command")];
      return error ? { ok: false, error: toEventsError(this.options, error) } : this.delivered(reply);
    });
  }

  /**
   * REDIS_SEND_MODE=script: the batch as EVALSHA calls of at most REDIS_SCRIPT_SIZE messages, all in
   * one pipeline. Before its first call (and after NOSCRIPT) the script is loaded; a server that
   * refuses scripting switches this publisher to plain pipelines for good, with one log line.
   */
  private async viaScripts(items: readonly Outgoing[], waits: boolean): Promise<ItemOutcome<Delivery>[]> {
    // Waiting on the shared load keeps batches in order while one of them (re)loads the script. A
    // batch written at once found it loaded (sendBatch).
    if (waits && !(await this.scriptLoaded())) return this.viaPipeline(items);
    const streams = this.options.mode === "streams";
    const script = streams ? XADD_SCRIPT : PUBLISH_SCRIPT;
    const size = this.options.scriptSize;
    const calls: (readonly Outgoing[])[] = [];
    for (let i = 0; i < items.length; i += size) calls.push(items.slice(i, i + size));
    const send = async (batch: (readonly Outgoing[])[]) => {
      const pipeline = this.client.pipeline();
      for (const call of batch) pipeline.evalsha(script.sha, ...scriptArgs(streams, call, this.options.streamMaxLen));
      return (await pipeline.exec()) ?? [];
    };
    const replies = await send(calls);
    // NOSCRIPT: the server lost its script cache (restart, failover, SCRIPT FLUSH). A refused call
    // ran nothing, so those calls are sent again once the script is back.
    const lost = calls.map((_, i) => i).filter((i) => isNoScript(replies[i]?.[0]));
    if (lost.length > 0) {
      // Batches formed until the reload has answered wait for it, behind this one.
      this.forgetScript();
      if (!(await this.scriptLoaded())) return this.viaPipeline(items);
      const again = await send(lost.map((i) => calls[i] as readonly Outgoing[]));
      lost.forEach((call, k) => {
        replies[call] = again[k] ?? [new Error("no reply for this command"), null];
      });
    }
    // Loading allowed but EVALSHA refused (an ACL that denies it): nothing ran either.
    if (replies.some(([error]) => isScriptingRefused(error))) {
      this.fallBack(replies.find(([error]) => isScriptingRefused(error))?.[0]);
      return this.viaPipeline(items);
    }
    return calls.flatMap((call, c) => {
      const [error, reply] = replies[c] ?? [new Error("no reply for this command")];
      if (error) {
        const failure = toEventsError(this.options, error);
        return call.map((): ItemOutcome<Delivery> => ({ ok: false, error: failure }));
      }
      const each = repliesOf(reply, call.length);
      return call.map((_, i): ItemOutcome<Delivery> => {
        const one = each[i];
        if (one instanceof Error) return { ok: false, error: toEventsError(this.options, one) };
        if (one === undefined) return { ok: false, error: toEventsError(this.options, new Error("no reply for this message")) };
        return this.delivered(one);
      });
    });
  }

  private delivered(reply: unknown): ItemOutcome<Delivery> {
    return { ok: true, value: this.options.mode === "streams" ? { position: String(reply) } : { receivers: Number(reply) } };
  }

  /** The server may not have the script (NOSCRIPT, a new connection): the next batch loads it, and batches wait for that. */
  private forgetScript(): void {
    this.loading = undefined;
    this.scriptReady = false;
  }

  /** One SCRIPT LOAD shared by the batches that wait for it: true when loaded, false when scripting is refused. */
  private scriptLoaded(): Promise<boolean> {
    if (!this.scripting) return Promise.resolve(false);
    if (this.loading === undefined) {
      const script = this.options.mode === "streams" ? XADD_SCRIPT : PUBLISH_SCRIPT;
      const loading = this.client.script("LOAD", script.lua).then(
        () => {
          if (this.loading === loading) this.scriptReady = true;
          return true;
        },
        (error: unknown) => {
          if (isScriptingRefused(error)) {
            this.fallBack(error);
            return false;
          }
          // Not the server's policy (the connection dropped): the next batch tries again.
          if (this.loading === loading) this.loading = undefined;
          throw error;
        },
      );
      this.loading = loading;
    }
    return this.loading;
  }

  private fallBack(error: unknown): void {
    if (!this.scripting) return;
    this.scripting = false;
    this.logger.warn(
      `[redis] ${describeServer(this.options)} refuses scripting (${safeText(this.options, (error as Error)?.message ?? String(error))}); publishing with plain pipelines from now on — set REDIS_SEND_MODE=pipeline to skip the attempt`,
    );
  }

  /** Waits (bounded by `deadline`) for the connection; ioredis reconnects on its own meanwhile. */
  private whenConnected(deadline: number): Promise<void> {
    const { client } = this;
    if (client.status === "ready") return Promise.resolve();
    if (client.status === "end") return Promise.reject(this.closedError());
    // Refused credentials will be refused again on the reconnect: say so now instead of waiting out
    // the bound, so the caller gets AUTH_FAILED rather than whichever timer fires first.
    if (this.lastError && isAuthError(this.lastError)) return Promise.reject(toEventsError(this.options, this.lastError));
    return new Promise((resolve, reject) => {
      const settle = (error?: EventsError) => {
        clearTimeout(timer);
        client.off("ready", onReady);
        client.off("error", onError);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => settle();
      const onError = (error: Error) => {
        if (isAuthError(error)) settle(toEventsError(this.options, error));
      };
      const timer = setTimeout(
        () =>
          settle(
            new ConnectionError({
              backend: BACKEND,
              message: `[redis] not connected to ${describeServer(this.options)} (${client.status}) — check REDIS_URL and that Redis is running; the event was not sent`,
              sent: false,
            }),
          ),
        Math.max(0, deadline - Date.now()),
      );
      client.on("ready", onReady);
      client.on("error", onError);
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
