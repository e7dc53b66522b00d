// Publishes to EventBridge with PutEvents. Concurrent publishes are gathered by core's Batcher into
// calls of at most 10 entries and the byte budget; core's sendWithPartialRetry re-sends only the
// entries that failed with a retryable ErrorCode. The SDK's own retries are off (maxAttempts 1), so
// EVENTBRIDGE_MAX_ATTEMPTS is the whole retry story and the publish bound is what the README says.

import {
  DescribeEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import {
  type Batcher,
  type Delivery,
  type DomainEvent,
  type EntryResult,
  eventTooLargeError,
  isRetryable,
  PublishError,
  PublisherBase,
  type PublisherContext,
  type ReadinessReport,
  redactUrl,
  sendWithPartialRetry,
  ValidationError,
} from "@kaireon/events-core/backend";
import { entryError, eventBridgeClientConfig, requestError } from "./eventbridge-client.js";
import { entrySize, toPutEventsEntry } from "./eventbridge-entry.js";
import { type EventBridgeConfig, type EventBridgeOptions, eventBridgeOptions, isReservedSource } from "./eventbridge-options.js";

const BACKEND = "eventbridge";
/** PutEvents takes at most 10 entries a call. */
export const MAX_ENTRIES_PER_CALL = 10;
/** Backoff between attempts: full jitter, up to 100 ms · 2^n, never over 2 s. */
export const RETRY_BACKOFF = { baseMs: 100, maxMs: 2_000 } as const;

export interface EventBridgePublisherContext extends PublisherContext {
  /** Bring your own client (custom credentials, middleware); it is not destroyed on close(). */
  client?: EventBridgeClient;
  /** Backoff sleep (tests). */
  sleep?: (ms: number) => Promise<void>;
}

/** The options; the rest is the deprecated one-argument form of the context. */
export interface EventBridgePublisherOptions extends EventBridgeConfig, Omit<EventBridgePublisherContext, "source"> {
  /** @deprecated pass `{ source }` as the second argument (the context): the CloudEvents source of events publish() builds. */
  eventSource?: string;
}

interface Pending {
  event: DomainEvent;
  entry: PutEventsRequestEntry;
  size: number;
}

export class EventBridgePublisher extends PublisherBase {
  readonly client: EventBridgeClient;
  readonly options: EventBridgeOptions;
  private readonly ownsClient: boolean;
  private readonly batcher: Batcher<Pending, Delivery>;
  private readonly sleep: ((ms: number) => Promise<void>) | undefined;

  constructor(config: EventBridgePublisherOptions = {}, context: EventBridgePublisherContext = {}) {
    const { eventSource, logger: legacyLogger, client: legacyClient, sleep: legacySleep, ...rest } = config;
    const { source = eventSource, logger = legacyLogger, client = legacyClient, sleep = legacySleep } = context;
    super({ backend: BACKEND, ...(source ? { source } : {}), ...(logger ? { logger } : {}) });
    this.options = eventBridgeOptions(rest);
    this.sleep = sleep;
    this.ownsClient = client === undefined;
    this.client = client ?? new EventBridgeClient(eventBridgeClientConfig(this.options));
    this.batcher = this.useBatcher<Pending, Delivery>({
      backend: BACKEND,
      send: (items) => this.putEvents(items),
      maxBatchSize: MAX_ENTRIES_PER_CALL,
      maxBatchBytes: this.options.maxEntryBytes,
      sizeOf: (item) => item.size,
      lingerMs: this.options.lingerMs,
      maxQueued: this.options.maxQueued,
      maxInFlight: this.options.maxInFlight,
      timeoutMs: this.options.publishTimeoutMs,
    });
    this.logger.debug("[eventbridge] publisher created", {
      bus: this.options.bus,
      region: this.options.region ?? "(SDK default chain)",
      endpoint: this.options.endpoint ? redactUrl(this.options.endpoint) : "(AWS)",
    });
  }

  protected deliver(event: DomainEvent): Promise<Delivery> {
    return this.batcher.add(this.batchItem(event));
  }

  /**
   * The PutEvents entry of an event; throws (nothing sent) for a Source AWS reserves or an entry over
   * EVENTBRIDGE_MAX_ENTRY_BYTES.
   */
  protected override batchItem(event: DomainEvent): Pending {
    const entry = toPutEventsEntry(event, this.options.bus, this.options.entrySource);
    const source = entry.Source ?? "";
    if (isReservedSource(source)) {
      throw new ValidationError({
        message: `[eventbridge] Source "${source}" starts with \`aws.\`, which AWS reserves — set EVENTBRIDGE_SOURCE (or the event's source) to your service name; nothing was sent`,
        issues: [{ path: "source", message: "must not start with aws." }],
        backend: BACKEND,
      });
    }
    const size = entrySize(entry);
    if (size > this.options.maxEntryBytes) {
      throw eventTooLargeError({
        backend: BACKEND,
        eventId: event.id,
        size,
        measured: "as a PutEvents entry",
        limit: this.options.maxEntryBytes,
        limitName: "EVENTBRIDGE_MAX_ENTRY_BYTES",
        hint: `(or raise the limit up to ${1024 * 1024} where the account allows 1 MB events)`,
      });
    }
    return { event, entry, size };
  }

  protected override destinationOf(): string {
    return this.options.bus;
  }

  /** One batch: PutEvents, then per-entry results; only retryable failed entries go again. */
  private putEvents(items: Pending[]) {
    const { bus, maxAttempts } = this.options;
    return sendWithPartialRetry<Pending, Delivery>(items, {
      maxAttempts,
      backoff: RETRY_BACKOFF,
      ...(this.sleep ? { sleep: this.sleep } : {}),
      isRetryableError: isRetryable,
      onRetry: (count, attempt) => this.logger.debug("[eventbridge] retrying failed entries", { count, attempt }),
      attempt: async (entries, attemptNumber): Promise<EntryResult<Delivery>[]> => {
        let response: PutEventsCommandOutput;
        try {
          response = await this.client.send(new PutEventsCommand({ Entries: entries.map((e) => e.entry) }));
        } catch (error) {
          // Coded now, so the error the caller finally gets names the bus and the fix.
          throw requestError(error, bus);
        }
        const results = response.Entries ?? [];
        // An HTTP 200 says nothing about each entry: read every one.
        return entries.map((_, i): EntryResult<Delivery> => {
          const result = results[i];
          if (result?.ErrorCode) {
            return { ok: false, error: entryError(result.ErrorCode, result.ErrorMessage, attemptNumber, bus) };
          }
          if (!result?.EventId) {
            return {
              ok: false,
              retryable: false,
              error: new PublishError({
                backend: BACKEND,
                message: `[eventbridge] PutEvents answered without an EventId or ErrorCode for this entry (FailedEntryCount=${String(response.FailedEntryCount)}); treated as not published`,
                sent: "unknown",
              }),
            };
          }
          return { ok: true, value: { position: result.EventId } };
        });
      },
    });
  }

  protected override release(): void {
    if (this.ownsClient) this.client.destroy();
  }

  async ready(): Promise<ReadinessReport> {
    if (this.closed) return { ready: false, backend: BACKEND, detail: "publisher is closed" };
    try {
      // One request timeout, as EVENTBRIDGE_REQUEST_TIMEOUT_MS promises; the signal also bounds a client passed in.
      await this.client.send(new DescribeEventBusCommand({ Name: this.options.bus }), {
        abortSignal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      return { ready: true, backend: BACKEND };
    } catch (error) {
      const name = (error as Error)?.name;
      // Reached AWS with valid credentials, only not allowed to describe: publishing may still work.
      if (name === "AccessDeniedException") {
        return {
          ready: true,
          backend: BACKEND,
          detail: "EventBridge reachable; events:DescribeEventBus not allowed, so the bus was not checked",
        };
      }
      return { ready: false, backend: BACKEND, detail: requestError(error, this.options.bus).message };
    }
  }
}

export function createEventBridgePublisher(
  options: EventBridgePublisherOptions = {},
  context: EventBridgePublisherContext = {},
): EventBridgePublisher {
  return new EventBridgePublisher(options, context);
}
