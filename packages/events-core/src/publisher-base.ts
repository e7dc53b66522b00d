// What every publisher shares, so a backend only writes its transport: build + validate before any
// I/O, the closed check, counting, error normalisation, idempotent close. A backend implements
// `deliver` (and `deliverBatch` when it can do one round trip), `ready`, and `release` for its
// connections. A backend that gathers publishes creates its Batcher with `useBatcher`, and flush,
// pending and close then follow that batcher without more code.

import { Batcher, type BatcherOptions, type ItemOutcome } from "./batcher.js";
import { type CreateEventOptions, createEvent, DEFAULT_SOURCE, type DomainEvent, parseEvent } from "./envelope.js";
import { publisherClosedError, toPublishError } from "./error-factories.js";
import type { EventsError, PublishError } from "./errors.js";
import { consoleLogger } from "./logger.js";
import type { Logger, Publisher, PublisherMetrics, PublishResult, ReadinessReport } from "./ports.js";
import { eventOfItem, startSend, telemetryRegistered, trackPending } from "./telemetry.js";
import type { TopicData, TopicName } from "./topics.js";
import { isTrusted } from "./trusted.js";

/** What a backend learned from the broker about one delivered event. */
export interface Delivery {
  /** `disabled`: accepted and deliberately not sent (the stream is off). */
  status?: "disabled";
  receivers?: number;
  position?: string;
}

/** What a publish result names of its event. */
export type EventIdentity = Pick<DomainEvent, "id" | "type">;

export interface PublisherBaseOptions {
  backend: string;
  /** Envelope `source` for events built by publish(); default `kaireon-platform`. */
  source?: string;
  logger?: Logger;
}

export abstract class PublisherBase implements Publisher {
  readonly backend: string;
  protected readonly logger: Logger;
  protected readonly source: string;
  private closing: Promise<void> | undefined;
  private readonly counts = { published: 0, failed: 0, disabled: 0 };
  private readonly failures: Record<string, number> = {};
  #batcher: Batcher<any, any> | undefined;
  /** What the pending gauge reads, held by the publisher: the gauge holds it weakly, so it lives as long as the publisher. */
  readonly #pendingSource: { readonly backend: string; pendingNow(): number };
  readonly #untrack: () => void;

  constructor(options: PublisherBaseOptions) {
    this.backend = options.backend;
    this.logger = options.logger ?? consoleLogger;
    this.source = options.source ?? DEFAULT_SOURCE;
    this.#pendingSource = { backend: this.backend, pendingNow: () => this.pendingCount() };
    this.#untrack = trackPending(this.#pendingSource);
  }

  /** Send one valid event; resolve when the broker confirmed it. */
  protected abstract deliver(event: DomainEvent): Promise<Delivery>;

  /**
   * A backend that queues every event on its batcher (useBatcher) as one item can say so here
   * instead of only in deliver(): publish() then queues that item itself and the batcher settles
   * the caller's promise with the result directly — one promise per event instead of three, which
   * matters with thousands of events waiting for their batch (they are what each young-generation
   * collection copies). May throw to refuse the event (counted as failed). The item is the event,
   * carries it as `item.event`, or (see spanEvent) carries its `id` and `type`.
   */
  protected batchItem?(event: DomainEvent): unknown;

  /**
   * What a batch item needs to keep of its event: the event while telemetry is registered (the
   * batch's send span links to each event's creation), else nothing — then an event waiting for its
   * batch holds only its JSON and id, not the envelope and its data as well.
   */
  protected spanEvent(event: DomainEvent): DomainEvent | undefined {
    return telemetryRegistered() ? event : undefined;
  }
  abstract ready(): Promise<ReadinessReport>;

  /**
   * Creates the batcher this publisher gathers publishes with; flush, pending and close follow it.
   * Each batch it sends is one `send` span (OpenTelemetry, when an SDK is registered), linked to its
   * events — an item is the event itself or carries it as `item.event`.
   */
  protected useBatcher<T, R>(options: BatcherOptions<T, R>): Batcher<T, R> {
    const send = options.send;
    const batcher = new Batcher<T, R>({
      ...options,
      // addSettled (publish of one event through batchItem): the entry's promise is the caller's.
      mapValue: (item, value) => this.succeed(eventOfItem(item) ?? (item as EventIdentity), value as Delivery),
      mapError: (_item, error) => this.fail(error),
      send: (items) => {
        if (!telemetryRegistered()) return send(items);
        const scope = startSend(this.backend, items.map(eventOfItem), (event) => this.destinationOf(event), true);
        if (scope === undefined) return send(items);
        return scope
          .run(() => send(items))
          .then(
            (outcomes) => {
              scope.end(outcomes);
              return outcomes;
            },
            (error) => {
              scope.end([], error);
              throw error;
            },
          );
      },
    });
    this.#batcher = batcher;
    return batcher;
  }

  /**
   * The broker-side name an event is sent to (`messaging.destination.name` of the send span): the
   * topic by default; a backend whose topic, stream or key differs from the event type overrides it.
   */
  protected destinationOf(event: DomainEvent): string {
    return event.type;
  }

  /** Wait for everything in flight. */
  protected drain(): Promise<void> {
    return this.#batcher ? this.#batcher.flush() : Promise.resolve();
  }

  /** Events accepted and not yet settled. */
  protected pendingCount(): number {
    return this.#batcher?.pending ?? 0;
  }

  /** Stop taking events, then release connections (close() calls it once, after drain). */
  protected async shutdown(): Promise<void> {
    await this.#batcher?.close();
    await this.release();
  }

  /** Release the backend's connections. */
  protected release(): void | Promise<void> {}

  /**
   * Send many valid events. With batchItem: all of them through the batcher's addAll, so a batch
   * larger than the queue bound is worked through as batches go out (QUEUE_FULL only when there is
   * no room at all), and an event batchItem refuses fails alone. Otherwise each on its own
   * (backends override for one round trip).
   */
  protected deliverBatch(events: readonly DomainEvent[]): Promise<ItemOutcome<Delivery>[]> {
    const batcher = this.#batcher;
    if (batcher !== undefined && this.batchItem !== undefined) {
      const outcomes: ItemOutcome<Delivery>[] = new Array(events.length);
      const items: unknown[] = [];
      const slots: number[] = [];
      events.forEach((event, index) => {
        try {
          items.push(this.batchItem?.(event));
          slots.push(index);
        } catch (error) {
          outcomes[index] = { ok: false, error };
        }
      });
      return batcher.addAll(items).then((queued) => {
        queued.forEach((outcome, k) => {
          outcomes[slots[k] as number] = outcome as ItemOutcome<Delivery>;
        });
        return outcomes;
      });
    }
    return Promise.all(
      events.map((event) =>
        this.attempt(event).then(
          (value): ItemOutcome<Delivery> => ({ ok: true, value }),
          (error): ItemOutcome<Delivery> => ({ ok: false, error }),
        ),
      ),
    );
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  publish<T extends TopicName>(topic: T, data: TopicData<T>, options?: CreateEventOptions): Promise<PublishResult> {
    if (this.closing) return Promise.reject(this.closedError());
    let event: DomainEvent;
    try {
      // No options and the default source (the usual call): createEvent's path without checks.
      event = (
        options === undefined && this.source === DEFAULT_SOURCE
          ? createEvent(topic, data)
          : createEvent(topic, data, { source: this.source, ...options })
      ) as DomainEvent;
    } catch (error) {
      return Promise.reject(this.fail(error));
    }
    return this.send(event);
  }

  publishEvent(event: DomainEvent): Promise<PublishResult> {
    if (this.closing) return Promise.reject(this.closedError());
    let valid: DomainEvent;
    try {
      valid = isTrusted(event) ? event : parseEvent(event);
    } catch (error) {
      return Promise.reject(this.fail(error));
    }
    return this.send(valid);
  }

  async publishBatch(events: readonly DomainEvent[]): Promise<PromiseSettledResult<PublishResult>[]> {
    if (this.closing) throw this.closedError();
    const results: PromiseSettledResult<PublishResult>[] = new Array(events.length);
    const valid: DomainEvent[] = [];
    const slots: number[] = [];
    events.forEach((event, index) => {
      try {
        valid.push(isTrusted(event) ? event : parseEvent(event));
        slots.push(index);
      } catch (error) {
        results[index] = { status: "rejected", reason: this.fail(error) };
      }
    });
    if (valid.length > 0) {
      let outcomes: ItemOutcome<Delivery>[];
      try {
        outcomes = await this.deliverBatch(valid);
      } catch (error) {
        outcomes = valid.map(() => ({ ok: false, error }));
      }
      outcomes.forEach((outcome, i) => {
        const event = valid[i] as DomainEvent;
        results[slots[i] as number] = outcome.ok
          ? { status: "fulfilled", value: this.succeed(event, outcome.value) }
          : { status: "rejected", reason: this.fail(outcome.error) };
      });
    }
    return results;
  }

  flush(): Promise<void> {
    return this.drain();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.drain();
      } finally {
        this.#untrack();
        await this.shutdown();
      }
    })();
    return this.closing;
  }

  metrics(): PublisherMetrics {
    return { ...this.counts, pending: this.pendingCount(), failures: { ...this.failures } };
  }

  /**
   * deliver(), with a synchronous throw of the backend turned into this event's rejection. A backend
   * without a batcher sends each event in a request of its own: that request is the `send` span here
   * (with a batcher, the batch is, see useBatcher).
   */
  private attempt(event: DomainEvent): Promise<Delivery> {
    const scope =
      this.#batcher === undefined && telemetryRegistered()
        ? startSend(this.backend, [event], (e) => this.destinationOf(e), false)
        : undefined;
    if (scope !== undefined) {
      return scope
        .run(() => this.deliverNow(event))
        .then(
          (delivery) => {
            scope.end([]);
            return delivery;
          },
          (error) => {
            scope.end([], error);
            throw error;
          },
        );
    }
    return this.deliverNow(event);
  }

  private deliverNow(event: DomainEvent): Promise<Delivery> {
    try {
      return this.deliver(event);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private send(event: DomainEvent): Promise<PublishResult> {
    const batcher = this.#batcher;
    if (batcher !== undefined && this.batchItem !== undefined) {
      let item: unknown;
      try {
        item = this.batchItem(event);
      } catch (error) {
        return Promise.reject(this.fail(error));
      }
      return batcher.addSettled<PublishResult>(item);
    }
    return this.attempt(event).then(
      (delivery) => this.succeed(event, delivery),
      (error) => {
        throw this.fail(error);
      },
    );
  }

  private succeed(event: EventIdentity, delivery: Delivery): PublishResult {
    const status = delivery.status ?? "published";
    this.counts[status]++;
    const result: PublishResult = { id: event.id, type: event.type, backend: this.backend, status };
    if (delivery.receivers !== undefined) result.receivers = delivery.receivers;
    if (delivery.position !== undefined) result.position = delivery.position;
    return result;
  }

  /** Counts the failure and returns it as an EventsError. */
  protected fail(error: unknown): EventsError {
    const normalized = toPublishError(this.backend, error);
    this.counts.failed++;
    this.failures[normalized.code] = (this.failures[normalized.code] ?? 0) + 1;
    return normalized;
  }

  protected closedError(): PublishError {
    return publisherClosedError(this.backend);
  }
}
