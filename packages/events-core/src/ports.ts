// The two ports every backend implements. Applications depend on these types only, so switching
// EVENT_PUBLISHER never changes application or subscriber code.

import type { CreateEventOptions, DomainEvent } from "./envelope.js";
import type { EventsError } from "./errors.js";
import type { TopicData, TopicName } from "./topics.js";

/**
 * What a successful publish tells you. A publish resolves once the backend has accepted the event
 * (Redis answered PUBLISH/XADD, Kafka acked with acks=all, EventBridge/Kinesis returned no error for
 * this entry) — or at once with `status: "disabled"` when the stream is off.
 */
export interface PublishResult {
  id: string;
  type: TopicName;
  backend: string;
  status: "published" | "disabled";
  /** Redis pub/sub only: how many subscribers received it (0 = nobody was listening, the event is gone). */
  receivers?: number;
  /** Where the broker stored it, when it says: `partition:offset`, a stream entry id, a sequence number, an EventBridge event id. */
  position?: string;
}

export interface PublisherMetrics {
  published: number;
  failed: number;
  /** Accepted while the stream was disabled: nothing was sent. */
  disabled: number;
  /** Waiting for the broker right now (queued + in flight). Bounded by each backend's queue limit. */
  pending: number;
  /** Failures by error code, e.g. `{ PUBLISH_TIMEOUT: 3 }`. */
  failures: Record<string, number>;
}

export interface ReadinessReport {
  ready: boolean;
  backend: string;
  /** Human-readable reason when not ready. Never contains a secret. */
  detail?: string;
  /**
   * The stream is deliberately off (redis without REDIS_URL): publishes are accepted and nothing is
   * sent. An outbox relay refuses such a publisher, since it would mark rows sent that went nowhere.
   */
  disabled?: boolean;
}

/**
 * Rejection contract: a publish rejects only with an EventsError —
 * VALIDATION_FAILED / UNKNOWN_TOPIC before any I/O (nothing was sent), PUBLISHER_CLOSED after close(),
 * QUEUE_FULL when the bounded queue is full, EVENT_TOO_LARGE before sending, PUBLISH_TIMEOUT or
 * PUBLISH_FAILED / CONNECTION_FAILED / AUTH_FAILED when the broker did not confirm within the backend's
 * bound. Every publish settles within that bound; none waits forever.
 */
export interface Publisher {
  readonly backend: string;
  /** Build, validate and send one event. */
  publish<T extends TopicName>(topic: T, data: TopicData<T>, options?: CreateEventOptions): Promise<PublishResult>;
  /** Send an event already built with createEvent (e.g. by an outbox); it keeps its id. */
  publishEvent(event: DomainEvent): Promise<PublishResult>;
  /**
   * Send many ready events with as few round trips as the backend allows. Each event settles on
   * its own (partial failures are per event); the call rejects as a whole only when the publisher
   * is closed.
   */
  publishBatch(events: readonly DomainEvent[]): Promise<PromiseSettledResult<PublishResult>[]>;
  /** Resolves when everything accepted so far has settled. */
  flush(): Promise<void>;
  /** Flushes, then releases connections. Idempotent. */
  close(): Promise<void>;
  /** Is the backend reachable right now? Never throws. */
  ready(): Promise<ReadinessReport>;
  metrics(): PublisherMetrics;
}

export interface MessageContext {
  /** Backend-specific position (`partition:offset`, stream entry id, …) when there is one. */
  position?: string;
  /** The channel/topic/stream name the message was read from. */
  source: string;
  /**
   * Given to the handler: aborted when this attempt timed out (`handlerTimeoutMs`) or the subscription
   * is closing. A handler that does slow work passes it on (fetch, database calls) to stop early.
   */
  signal?: AbortSignal;
}

export type EventHandler = (event: DomainEvent, context: MessageContext) => void | Promise<void>;

/**
 * A message that could not be turned into an event (MALFORMED_MESSAGE, UNKNOWN_TOPIC,
 * VALIDATION_FAILED), a handler that failed every attempt (HANDLER_FAILED), or a transport problem
 * (CONNECTION_FAILED, AUTH_FAILED, …). The subscription goes on.
 */
export interface SubscriptionError {
  error: EventsError;
  /** The raw message text when the message was malformed. */
  raw?: string;
  context?: MessageContext;
}

export interface SubscribeOptions {
  /** Where to start when the group has no committed position: `latest` (default), `earliest`, or a time (replay). */
  from?: "latest" | "earliest" | Date;
  /** Consumer group, where the backend has groups; each backend documents its default. */
  group?: string;
  /** Malformed messages, failed handlers and transport problems land here. Default: logged as a warning. It may throw: the subscription goes on. */
  onError?: (failure: SubscriptionError) => void;
  /**
   * The handler contract, the same on every backend: a handler that throws, or does not settle within
   * `handlerTimeoutMs` (its `context.signal` is then aborted), is called again after a short backoff,
   * up to `handlerAttempts` times; then onError gets HANDLER_FAILED and the subscription moves on to
   * the next message (it is acknowledged: forward it from onError to keep it). Default 3.
   */
  handlerAttempts?: number;
  /** How long one handler attempt may take. Default 30 000 ms. */
  handlerTimeoutMs?: number;
}

export interface Subscription {
  readonly topics: readonly TopicName[];
  /** Stops reading and releases the connection. Idempotent. */
  close(): Promise<void>;
}

export interface Subscriber {
  readonly backend: string;
  /** Resolves once the subscription is live: events published after that are delivered. */
  subscribe(topics: readonly TopicName[], handler: EventHandler, options?: SubscribeOptions): Promise<Subscription>;
  /** Closes every subscription of this subscriber. Idempotent. */
  close(): Promise<void>;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
