// Reads an SQS queue that EventBridge rules feed (see ensureRuleToQueue). Long polling
// ReceiveMessage; the shell — checks, the handler contract (attempts, a timeout per attempt, then
// HANDLER_FAILED to onError), the guarded onError — is core's SubscriberBase, as on every backend.
// A message is deleted once the handler succeeded or failed all its attempts (the contract moves
// on; forward it from onError to keep it); a crash or a close mid-handler leaves it for SQS to
// deliver again after the visibility timeout (at least once: dedupe on the envelope id). A message
// that is not one of our events is reported with its raw text and, by default, left in the queue: a
// redrive policy moves it to a dead-letter queue (EVENTBRIDGE_SQS_MALFORMED=delete drops it). Events
// of topics this subscription did not ask for are reported and deleted: one queue belongs to one
// subscription, its rules decide what arrives.
// While a received batch (up to 10) is handled one by one, the messages not yet deleted are kept
// hidden (ChangeMessageVisibilityBatch every third of the queue's visibility timeout), so a slow
// batch does not reappear to other consumers mid-way. Every request has a timeout
// (EVENTBRIDGE_REQUEST_TIMEOUT_MS, a long poll its wait on top), and close() gives a delete still
// running at most one request timeout.

import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  backoffDelay,
  ConfigError,
  ConnectionError,
  type Inbox,
  type Logger,
  SubscriberBase,
  type SubscriberContext,
  sleep,
  type TransportSubscription,
} from "@kaireon/events-core/backend";
import { sqsClientConfig } from "./eventbridge-client.js";
import { safeParseEventBridgeEvent } from "./eventbridge-event.js";
import { type EventBridgeConfig, type EventBridgeOptions, eventBridgeOptions } from "./eventbridge-options.js";

const BACKEND = "eventbridge";

export interface EventBridgeSubscriberContext extends SubscriberContext {
  /** Bring your own client; it is not destroyed on close(). Its HTTP timeouts are then yours to set. */
  client?: SQSClient;
}

/**
 * The options it reads: queueUrl (EVENTBRIDGE_QUEUE_URL), waitTimeSeconds, malformed, region,
 * sqsEndpoint, requestTimeoutMs; `logger` and `client` here are the deprecated one-argument form of the context.
 */
export type EventBridgeSubscriberOptions = EventBridgeConfig & EventBridgeSubscriberContext;

/** What the subscription needs from the subscriber's settings and the queue. */
interface SqsSettings {
  waitTimeSeconds: number;
  malformed: "leave" | "delete";
  logger: Logger;
  requestTimeoutMs: number;
  /** The queue's VisibilityTimeout: how long a received message stays hidden unless we extend it. */
  visibilityTimeoutSeconds: number;
}

/**
 * Keeps the messages of one batch hidden while they wait: every third of the visibility timeout their
 * visibility is set to the whole timeout again. A message leaves the set once it is deleted or given
 * back (left for the redrive policy, or not handled because we are closing): SQS then shows it again.
 */
class VisibilityKeeper {
  private readonly held = new Map<string, Message>();
  private readonly timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    messages: readonly Message[],
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly settings: SqsSettings,
    private readonly signal: AbortSignal,
  ) {
    for (const m of messages) if (m.ReceiptHandle) this.held.set(m.ReceiptHandle, m);
    const seconds = settings.visibilityTimeoutSeconds;
    if (seconds > 0 && this.held.size > 0) {
      this.timer = setInterval(() => this.extend(), Math.max(200, (seconds * 1000) / 3));
      this.timer.unref();
    }
  }

  release(message: Message): void {
    if (message.ReceiptHandle) this.held.delete(message.ReceiptHandle);
  }

  stop(): void {
    clearInterval(this.timer);
    this.held.clear();
  }

  private extend(): void {
    if (this.inFlight || this.held.size === 0 || this.signal.aborted) return;
    const entries = [...this.held.keys()].map((receiptHandle, i) => ({
      Id: String(i),
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: this.settings.visibilityTimeoutSeconds,
    }));
    this.inFlight = this.client
      .send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }), { abortSignal: this.signal })
      .then((response) => {
        for (const failed of response.Failed ?? []) {
          const entry = entries[Number(failed.Id)];
          if (entry) this.held.delete(entry.ReceiptHandle);
          this.settings.logger.warn("[eventbridge] ChangeMessageVisibility failed; the message may be delivered again meanwhile", {
            code: failed.Code,
            queueUrl: this.queueUrl,
          });
        }
      })
      .catch((error: unknown) => {
        if (!this.signal.aborted) {
          this.settings.logger.warn("[eventbridge] ChangeMessageVisibilityBatch failed; these messages may be delivered again meanwhile", {
            error: (error as Error)?.name,
            count: entries.length,
          });
        }
      })
      .finally(() => {
        this.inFlight = undefined;
      });
  }
}

/** The shell (checks, handler contract, onError) is core's SubscriberBase; this class is the queue loop. */
class SqsSubscription implements TransportSubscription {
  /** Aborted one request timeout after close() while a delete runs: what close() waits for is bounded. */
  private readonly drain = new AbortController();
  private drainTimer: NodeJS.Timeout | undefined;
  private deleting = false;
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly inbox: Inbox,
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly settings: SqsSettings,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.deleting) this.armDrain();
      await this.loop?.catch(() => {});
      clearTimeout(this.drainTimer);
    })();
    return this.closing;
  }

  /** A delete running while we close gets one request timeout, then is aborted (its messages come back). */
  private armDrain(): void {
    this.drainTimer ??= setTimeout(() => this.drain.abort(), this.settings.requestTimeoutMs);
    this.drainTimer.unref();
  }

  /** The base aborts inbox.signal when the subscription closes: it ends a long poll and a backoff sleep at once. */
  private get stopped(): boolean {
    return this.inbox.signal.aborted;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let messages: Message[];
      try {
        const response = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.settings.waitTimeSeconds,
          }),
          // The long poll may take its whole wait before SQS answers: the timeout comes on top.
          { abortSignal: this.inbox.signal, requestTimeout: this.settings.waitTimeSeconds * 1000 + this.settings.requestTimeoutMs },
        );
        messages = response.Messages ?? [];
        failures = 0;
      } catch (error) {
        if (this.stopped) return;
        this.inbox.report({
          error: new ConnectionError({
            backend: BACKEND,
            message: `[eventbridge] ReceiveMessage on ${this.queueUrl} failed (${(error as Error)?.name}: ${(error as Error)?.message}) — retrying; check EVENTBRIDGE_QUEUE_URL and sqs:ReceiveMessage`,
            cause: error,
          }),
        });
        await sleep(backoffDelay(failures++, { baseMs: 200, maxMs: 10_000 }), this.inbox.signal);
        continue;
      }
      const done: Message[] = [];
      const keeper = new VisibilityKeeper(messages, this.client, this.queueUrl, this.settings, this.drain.signal);
      try {
        for (const message of messages) {
          // A message received but not handled before close goes back to the queue after its visibility timeout.
          if (this.stopped) break;
          if (await this.handle(message)) done.push(message);
          else keeper.release(message);
        }
      } finally {
        keeper.stop();
      }
      await this.delete(done);
    }
  }

  /**
   * True when the message is finished with and may be deleted: handled, failed every attempt
   * (HANDLER_FAILED went to onError: the contract moves on, as on every backend), or an event of a
   * topic this subscription did not ask for. A message that is not one of our events follows
   * EVENTBRIDGE_SQS_MALFORMED; one the handler did not finish because we are closing stays.
   */
  private async handle(message: Message): Promise<boolean> {
    const raw = message.Body ?? "";
    const parsed = safeParseEventBridgeEvent(raw);
    if (!parsed.ok) {
      this.inbox.report({
        error: parsed.error,
        raw,
        context: { source: this.queueUrl, ...(message.MessageId ? { position: message.MessageId } : {}) },
      });
      return this.settings.malformed === "delete";
    }
    const { event, eventBridge } = parsed;
    const outcome = await this.inbox.deliverEvent(event, { source: this.queueUrl, position: eventBridge.id }, raw);
    return outcome !== "skipped";
  }

  private async delete(messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    this.deleting = true;
    if (this.stopped) this.armDrain();
    try {
      const response = await this.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
        { abortSignal: this.drain.signal },
      );
      for (const failed of response.Failed ?? []) {
        this.settings.logger.warn("[eventbridge] DeleteMessage failed; the message will be delivered again", {
          code: failed.Code,
          queueUrl: this.queueUrl,
        });
      }
    } catch (error) {
      this.settings.logger.warn("[eventbridge] DeleteMessageBatch failed; these messages will be delivered again", {
        error: (error as Error)?.name,
        count: messages.length,
      });
    } finally {
      this.deleting = false;
    }
  }
}

export class EventBridgeSubscriber extends SubscriberBase {
  readonly client: SQSClient;
  private readonly ownsClient: boolean;
  private readonly options: EventBridgeOptions;

  constructor(config: EventBridgeSubscriberOptions = {}, context: EventBridgeSubscriberContext = {}) {
    const { logger: legacyLogger, client: legacyClient, ...given } = config;
    const { logger = legacyLogger, client = legacyClient } = context;
    super({ backend: BACKEND, ...(logger ? { logger } : {}) });
    this.options = eventBridgeOptions(given);
    this.ownsClient = client === undefined;
    this.client = client ?? new SQSClient(sqsClientConfig(this.options));
  }

  protected async open(inbox: Inbox): Promise<TransportSubscription> {
    const queueUrl = this.options.queueUrl;
    if (!queueUrl) {
      throw new ConfigError({
        backend: BACKEND,
        message:
          "[eventbridge] EVENTBRIDGE_QUEUE_URL is not set — EventBridge pushes to targets; point it at the SQS queue your rule targets (ensureRuleToQueue creates one)",
        details: { variable: "EVENTBRIDGE_QUEUE_URL" },
      });
    }
    if (inbox.options.from instanceof Date) {
      throw new ConfigError({
        backend: BACKEND,
        message:
          "[eventbridge] subscribe({ from: Date }) is not possible: EventBridge keeps no history — replay needs an EventBridge archive (StartReplay), or use kafka/kinesis",
      });
    }
    // The queue holds what the rule delivered since it was created, whether or not we poll: checking
    // that it exists is what makes the subscription live.
    let visibilityTimeoutSeconds: number;
    try {
      const attributes = await this.client.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn", "VisibilityTimeout"] }),
        { abortSignal: inbox.signal },
      );
      // SQS's default when the queue does not say: 30 s.
      visibilityTimeoutSeconds = Number(attributes.Attributes?.VisibilityTimeout ?? 30);
    } catch (error) {
      throw new ConnectionError({
        backend: BACKEND,
        message: `[eventbridge] cannot read queue ${queueUrl} (${(error as Error)?.name}: ${(error as Error)?.message}) — check EVENTBRIDGE_QUEUE_URL and sqs:GetQueueAttributes`,
        cause: error,
      });
    }
    const subscription = new SqsSubscription(inbox, this.client, queueUrl, {
      waitTimeSeconds: this.options.waitTimeSeconds,
      malformed: this.options.malformed,
      logger: this.logger,
      requestTimeoutMs: this.options.requestTimeoutMs,
      visibilityTimeoutSeconds: Number.isFinite(visibilityTimeoutSeconds) ? visibilityTimeoutSeconds : 30,
    });
    subscription.start();
    return subscription;
  }

  protected override release(): void {
    if (this.ownsClient) this.client.destroy();
  }
}

export function createEventBridgeSubscriber(
  options: EventBridgeSubscriberOptions = {},
  context: EventBridgeSubscriberContext = {},
): EventBridgeSubscriber {
  return new EventBridgeSubscriber(options, context);
}
