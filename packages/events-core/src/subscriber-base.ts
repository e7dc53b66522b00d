// What every subscriber shares, so a backend only writes its transport loop: the closed and topic
// checks, the default onError, parse → topic filter → handler → report, one handler contract
// (attempts, a timeout per attempt, then HANDLER_FAILED and move on), an onError that may throw, and
// the set of subscriptions with an idempotent close that waits for the handler in progress.
//
// A backend implements `open(inbox)`: start reading `inbox.topics`, call `inbox.deliver()` per message
// (awaiting it before the next message of the same partition/shard/connection), ack by the outcome,
// and return something to close.

import type { DomainEvent } from "./envelope.js";
import { safeParseEvent } from "./envelope.js";
import { ConfigError, EventsError, ValidationError } from "./errors.js";
import { consoleLogger } from "./logger.js";
import type { EventHandler, Logger, MessageContext, SubscribeOptions, Subscriber, Subscription, SubscriptionError } from "./ports.js";
import { type BackoffOptions, backoffDelay, sleep } from "./retry.js";
import { type ProcessScope, startProcess } from "./telemetry.js";
import { isTopicName, type TopicName, topicNames } from "./topics.js";

/**
 * What became of one message, so the transport knows whether to ack it:
 * - `handled`: the handler succeeded — ack/commit/delete;
 * - `failed`: the handler failed every attempt and HANDLER_FAILED was reported — ack too (the contract
 *   is "move on"; forward it from onError to keep it);
 * - `malformed`: not an event, or a topic this subscription did not ask for — reported with its raw
 *   text; ack;
 * - `skipped`: the subscription is closing and the handler did not finish — do not ack, so a backend
 *   that redelivers will.
 */
export type DeliveryOutcome = "handled" | "failed" | "malformed" | "skipped";

/** What a backend's transport loop gets for one subscription. */
export interface Inbox {
  readonly backend: string;
  readonly topics: readonly TopicName[];
  /** The caller's options (from, group, …) as given. */
  readonly options: SubscribeOptions;
  /** Aborted when the subscription closes: pass it to polls and sleeps of the transport loop. */
  readonly signal: AbortSignal;
  /**
   * Parses `raw` (JSON text, bytes or an object), checks its topic, runs the handler under the
   * contract, reports failures through onError. Never throws.
   */
  deliver(raw: unknown, context: MessageContext): Promise<DeliveryOutcome>;
  /** The same for an event the transport parsed itself (EventBridge unwraps its own envelope). */
  deliverEvent(event: DomainEvent, context: MessageContext, raw?: string): Promise<DeliveryOutcome>;
  /** A transport problem (connection lost, a consumer crash, a failed ack) through the guarded onError. */
  report(failure: SubscriptionError): void;
  /**
   * Whether core makes a `process` span per message (OpenTelemetry, when registered). A transport
   * whose client library's own instrumentation already makes one per message (kafkajs with
   * @opentelemetry/instrumentation-kafkajs) sets it false: one process span per message, not two;
   * the process metrics are recorded either way. Default true.
   */
  processSpans: boolean;
}

/** What `open` returns: the transport's own stop. */
export interface TransportSubscription {
  close(): Promise<void>;
}

/** Backend-wide defaults of the handler contract; SubscribeOptions override them per subscription. */
export interface HandlerPolicy {
  /** Attempts per message before HANDLER_FAILED. Default 3. */
  attempts?: number;
  /** One attempt is given up after this long (the handler's `context.signal` is aborted). Default 30 s. */
  timeoutMs?: number;
  /** Wait between attempts: random(0, min(maxMs, baseMs·2^attempt)). Default 100 ms … 2 s. */
  backoff?: BackoffOptions;
}

export interface SubscriberBaseOptions {
  backend: string;
  logger?: Logger;
  handler?: HandlerPolicy;
}

const DEFAULT_ATTEMPTS = 3;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 2_000 };

export abstract class SubscriberBase implements Subscriber {
  readonly backend: string;
  protected readonly logger: Logger;
  private readonly policy: HandlerPolicy;
  private readonly subscriptions = new Set<Subscription>();
  private closing: Promise<void> | undefined;

  constructor(options: SubscriberBaseOptions) {
    this.backend = options.backend;
    this.logger = options.logger ?? consoleLogger;
    this.policy = options.handler ?? {};
  }

  /** Start reading `inbox.topics`; resolve once live (events published after that are delivered). */
  protected abstract open(inbox: Inbox): Promise<TransportSubscription>;

  /** Release what the subscriber itself holds (a shared client), after every subscription closed. */
  protected release(): void | Promise<void> {}

  get closed(): boolean {
    return this.closing !== undefined;
  }

  async subscribe(topics: readonly TopicName[], handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.closing) throw this.closedError();
    this.checkTopics(topics);
    const inbox = new SubscriptionInbox(this.backend, this.logger, [...topics], handler, options, this.resolvePolicy(options));
    let transport: TransportSubscription;
    try {
      transport = await this.open(inbox);
    } catch (error) {
      inbox.abort();
      throw error;
    }
    let closing: Promise<void> | undefined;
    const subscription: Subscription = {
      topics: inbox.topics,
      close: () => {
        closing ??= (async () => {
          this.subscriptions.delete(subscription);
          inbox.abort();
          try {
            await transport.close();
          } finally {
            await inbox.idle();
          }
        })();
        return closing;
      },
    };
    if (this.closing) {
      // close() ran while the transport was opening: nothing may stay open behind it.
      await subscription.close().catch(() => {});
      throw this.closedError();
    }
    this.subscriptions.add(subscription);
    return subscription;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
      await this.release();
    })();
    return this.closing;
  }

  private closedError(): EventsError {
    return new EventsError({
      backend: this.backend,
      code: "SUBSCRIBER_CLOSED",
      message: `[${this.backend}] subscriber is closed — subscribe before close(), or create a new subscriber`,
    });
  }

  private checkTopics(topics: readonly TopicName[]): void {
    if (!Array.isArray(topics) || topics.length === 0) {
      throw new ConfigError({
        backend: this.backend,
        message: `[${this.backend}] subscribe() needs at least one topic — pass one or more of: ${topicNames.join(", ")}`,
        details: { option: "topics" },
      });
    }
    const unknown = topics.map((t, i) => [t, i] as const).filter(([t]) => !isTopicName(t));
    if (unknown.length > 0) {
      throw new ValidationError({
        backend: this.backend,
        code: "UNKNOWN_TOPIC",
        message: `[${this.backend}] subscribe(): ${unknown.map(([t]) => JSON.stringify(t)).join(", ")} is not a topic — use one of: ${topicNames.join(", ")}`,
        issues: unknown.map(([, i]) => ({ path: `topics.${i}`, message: "unknown topic" })),
      });
    }
  }

  private resolvePolicy(options: SubscribeOptions): Required<HandlerPolicy> {
    const attempts = options.handlerAttempts ?? this.policy.attempts ?? DEFAULT_ATTEMPTS;
    const timeoutMs = options.handlerTimeoutMs ?? this.policy.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(attempts) || attempts < 1) {
      throw new ConfigError({
        backend: this.backend,
        message: `[${this.backend}] handlerAttempts is ${attempts} — use a whole number ≥ 1`,
        details: { option: "handlerAttempts" },
      });
    }
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
      throw new ConfigError({
        backend: this.backend,
        message: `[${this.backend}] handlerTimeoutMs is ${timeoutMs} — use a whole number of milliseconds ≥ 1`,
        details: { option: "handlerTimeoutMs" },
      });
    }
    return { attempts, timeoutMs, backoff: this.policy.backoff ?? DEFAULT_BACKOFF };
  }
}

class HandlerTimeout extends Error {}

/** One subscription's side of the shell: the handler contract and the guarded onError. */
class SubscriptionInbox implements Inbox {
  private readonly controller = new AbortController();
  private readonly onError: (failure: SubscriptionError) => void;
  private readonly active = new Set<Promise<DeliveryOutcome>>();
  processSpans = true;

  constructor(
    readonly backend: string,
    private readonly logger: Logger,
    readonly topics: readonly TopicName[],
    private readonly handler: EventHandler,
    readonly options: SubscribeOptions,
    private readonly policy: Required<HandlerPolicy>,
  ) {
    this.onError =
      options.onError ??
      ((failure) =>
        logger.warn(failure.error.message, {
          code: failure.error.code,
          source: failure.context?.source,
          position: failure.context?.position,
        }));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(): void {
    this.controller.abort();
  }

  /** Resolves once no handler runs (each is bounded by its timeout). */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
  }

  deliver(raw: unknown, context: MessageContext): Promise<DeliveryOutcome> {
    if (this.signal.aborted) return Promise.resolve("skipped");
    const parsed = safeParseEvent(raw);
    if (!parsed.ok) {
      this.report({ error: parsed.error, context, ...rawText(raw) });
      return Promise.resolve("malformed");
    }
    return this.deliverEvent(parsed.event, context, typeof raw === "string" ? raw : undefined);
  }

  deliverEvent(event: DomainEvent, context: MessageContext, raw?: string): Promise<DeliveryOutcome> {
    if (this.signal.aborted) return Promise.resolve("skipped");
    if (!this.topics.includes(event.type)) {
      this.report({
        error: new ValidationError({
          backend: this.backend,
          code: "MALFORMED_MESSAGE",
          message: `[${this.backend}] event of type ${event.type} found on ${context.source} — only ${this.topics.join(", ")} were subscribed`,
          issues: [{ path: "type", message: `not one of the subscribed topics (${this.topics.join(", ")})` }],
          details: { eventId: event.id },
        }),
        context,
        ...(raw !== undefined ? { raw } : {}),
      });
      return Promise.resolve("malformed");
    }
    const scope = startProcess(this.backend, event, context.source, this.options.group, this.processSpans);
    const run = scope === undefined ? this.run(event, context) : this.traced(scope, event, context);
    this.active.add(run);
    void run.finally(() => this.active.delete(run));
    return run;
  }

  report(failure: SubscriptionError): void {
    try {
      const returned = this.onError(failure) as unknown;
      if (returned && typeof (returned as Promise<unknown>).then === "function") {
        (returned as Promise<unknown>).then(undefined, (error: unknown) => this.onErrorFailed(error));
      }
    } catch (error) {
      this.onErrorFailed(error);
    }
  }

  /** An onError that throws must not stop the subscription, nor become an unhandled rejection. */
  private onErrorFailed(error: unknown): void {
    try {
      this.logger.error(`[${this.backend}] onError threw: ${(error as Error)?.message ?? String(error)} — the subscription goes on`);
    } catch {
      // a logger that throws too: nothing left to tell
    }
  }

  /** run() as the event's `process` span (OpenTelemetry): the handler's own spans are its children. */
  private async traced(scope: ProcessScope, event: DomainEvent, context: MessageContext): Promise<DeliveryOutcome> {
    let outcome: DeliveryOutcome = "failed";
    try {
      outcome = await scope.run(() => this.run(event, context));
      return outcome;
    } finally {
      // Every attempt failed: the error class is the one onError got.
      scope.end(outcome === "failed" ? "HANDLER_FAILED" : undefined);
    }
  }

  private async run(event: DomainEvent, context: MessageContext): Promise<DeliveryOutcome> {
    const { attempts, backoff } = this.policy;
    let last: unknown;
    let timedOut = false;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.signal.aborted) return "skipped";
      try {
        await this.attempt(event, context);
        return "handled";
      } catch (error) {
        last = error;
        timedOut = error instanceof HandlerTimeout;
      }
      if (attempt < attempts) await sleep(backoffDelay(attempt, backoff), this.signal);
    }
    if (this.signal.aborted && !timedOut) return "skipped";
    const reason = timedOut ? (last as Error).message : ((last as Error)?.message ?? String(last));
    this.report({
      error: new EventsError({
        backend: this.backend,
        code: "HANDLER_FAILED",
        message: `[${this.backend}] handler failed ${attempts} time${attempts === 1 ? "" : "s"} for event ${event.id} on ${context.source}${context.position ? ` at ${context.position}` : ""}: ${reason} — skipped`,
        cause: timedOut ? undefined : last,
        details: { attempts, timedOut, eventId: event.id },
      }),
      context,
    });
    return "failed";
  }

  /** One call of the handler, given up after timeoutMs; its signal aborts then or when the subscription closes. */
  private attempt(event: DomainEvent, context: MessageContext): Promise<void> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    this.signal.addEventListener("abort", stop, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new HandlerTimeout(`no result within ${this.policy.timeoutMs} ms (handlerTimeoutMs)`));
      }, this.policy.timeoutMs);
    });
    const call = (async () => this.handler(event, { ...context, signal: controller.signal }))();
    return Promise.race([call, timeout]).finally(() => {
      clearTimeout(timer);
      this.signal.removeEventListener("abort", stop);
      call.catch(() => {}); // a handler that fails after its timeout has nobody left to tell
    }) as Promise<void>;
  }
}

function rawText(raw: unknown): { raw?: string } {
  if (typeof raw === "string") return { raw };
  if (raw instanceof Uint8Array) return { raw: Buffer.from(raw).toString("utf8") };
  return {};
}
