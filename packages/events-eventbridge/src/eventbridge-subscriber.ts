// Reads an SQS queue that EventBridge rules feed (see ensureRuleToQueue). Long polling
// ReceiveMessage; a message is deleted only after the handler succeeded, so a crash or a failed
// handler means SQS delivers it again after the visibility timeout (at least once: dedupe on the
// envelope id). A malformed message is reported through onError with its raw text and, by default,
// left in the queue: a redrive policy moves it to a dead-letter queue for inspection instead of it
// vanishing (EVENTBRIDGE_SQS_MALFORMED=delete drops it instead). Events of topics this subscription
// did not ask for are deleted: one queue belongs to one subscription, its rules decide what arrives.

import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";
import {
  backoffDelay,
  ConfigError,
  ConnectionError,
  consoleLogger,
  type EventHandler,
  EventsError,
  type Logger,
  type MessageContext,
  type SubscribeOptions,
  type Subscriber,
  type Subscription,
  type SubscriptionError,
  sleep,
  type TopicName,
} from "@kaireon/events-core";
import { safeParseEventBridgeEvent } from "./eventbridge-event.js";
import type { EventBridgeOptions } from "./eventbridge-options.js";

const BACKEND = "eventbridge";

export interface EventBridgeSubscriberOptions {
  /** The SQS queue a rule targets (EVENTBRIDGE_QUEUE_URL). */
  queueUrl?: string | undefined;
  /** Long-poll wait, 0–20 s (EVENTBRIDGE_SQS_WAIT_SECONDS). */
  waitTimeSeconds?: number;
  /** What to do with a message that is not one of our events (EVENTBRIDGE_SQS_MALFORMED). */
  malformed?: "leave" | "delete";
  region?: string | undefined;
  /** SQS endpoint (AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL). */
  sqsEndpoint?: string | undefined;
  logger?: Logger;
  /** Bring your own client; it is not destroyed on close(). */
  client?: SQSClient;
}

export function sqsClientConfig(options: Pick<EventBridgeOptions, "region" | "sqsEndpoint">): SQSClientConfig {
  const config: SQSClientConfig = {};
  if (options.region !== undefined) config.region = options.region;
  if (options.sqsEndpoint !== undefined) config.endpoint = options.sqsEndpoint;
  return config;
}

class SqsSubscription implements Subscription {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly warnedTopics = new Set<string>();

  constructor(
    readonly topics: readonly TopicName[],
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly handler: EventHandler,
    private readonly onError: (failure: SubscriptionError) => void,
    private readonly settings: { waitTimeSeconds: number; malformed: "leave" | "delete"; logger: Logger },
  ) {}

  start(): void {
    this.loop = this.run();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort();
      await this.loop?.catch(() => {});
    })();
    return this.closing;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
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
          { abortSignal: this.abort.signal },
        );
        messages = response.Messages ?? [];
        failures = 0;
      } catch (error) {
        if (this.stopped) return;
        this.report({
          error: new ConnectionError({
            backend: BACKEND,
            message: `[eventbridge] ReceiveMessage on ${this.queueUrl} failed (${(error as Error)?.name}: ${(error as Error)?.message}) — retrying; check EVENTBRIDGE_QUEUE_URL and sqs:ReceiveMessage`,
            cause: error,
          }),
        });
        await sleep(backoffDelay(failures++, { baseMs: 200, maxMs: 10_000 }), this.abort.signal);
        continue;
      }
      const done: Message[] = [];
      for (const message of messages) {
        // A message received but not handled before close goes back to the queue after its visibility timeout.
        if (this.stopped) break;
        if (await this.handle(message)) done.push(message);
      }
      await this.delete(done);
    }
  }

  /** True when the message is finished with and may be deleted. */
  private async handle(message: Message): Promise<boolean> {
    const raw = message.Body ?? "";
    const parsed = safeParseEventBridgeEvent(raw);
    if (!parsed.ok) {
      this.report({
        error: parsed.error,
        raw,
        context: { source: this.queueUrl, ...(message.MessageId ? { position: message.MessageId } : {}) },
      });
      return this.settings.malformed === "delete";
    }
    const { event, eventBridge } = parsed;
    if (!this.topics.includes(event.type)) {
      if (!this.warnedTopics.has(event.type)) {
        this.warnedTopics.add(event.type);
        this.settings.logger.warn(
          "[eventbridge] the queue receives a topic this subscription did not ask for; deleting such messages — narrow the rule",
          {
            topic: event.type,
            queueUrl: this.queueUrl,
          },
        );
      }
      return true;
    }
    const context: MessageContext = { source: this.queueUrl, position: eventBridge.id };
    try {
      await this.handler(event, context);
      return true;
    } catch (cause) {
      this.report({
        error: EventsError.isInstance(cause)
          ? cause
          : new EventsError({
              code: "HANDLER_FAILED",
              backend: BACKEND,
              message: `[eventbridge] handler failed for event ${event.id}: ${(cause as Error)?.message ?? String(cause)} — the message stays in the queue and comes back after its visibility timeout`,
              cause,
            }),
        context,
      });
      return false;
    }
  }

  private async delete(messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      const response = await this.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
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
    }
  }

  private report(failure: SubscriptionError): void {
    try {
      this.onError(failure);
    } catch {
      // an onError that throws must not stop the subscription
    }
  }
}

export class EventBridgeSubscriber implements Subscriber {
  readonly backend = BACKEND;
  readonly client: SQSClient;
  private readonly ownsClient: boolean;
  private readonly subscriptions = new Set<SqsSubscription>();
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly options: EventBridgeSubscriberOptions = {}) {
    this.logger = options.logger ?? consoleLogger;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new SQSClient(sqsClientConfig({ region: options.region, sqsEndpoint: options.sqsEndpoint }));
  }

  async subscribe(topics: readonly TopicName[], handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.closed) {
      throw new EventsError({
        code: "SUBSCRIBER_CLOSED",
        backend: BACKEND,
        message: "[eventbridge] subscriber is closed — create a new one",
      });
    }
    const queueUrl = this.options.queueUrl;
    if (!queueUrl) {
      throw new ConfigError({
        backend: BACKEND,
        message:
          "[eventbridge] EVENTBRIDGE_QUEUE_URL is not set — EventBridge pushes to targets; point it at the SQS queue your rule targets (ensureRuleToQueue creates one)",
        details: { variable: "EVENTBRIDGE_QUEUE_URL" },
      });
    }
    if (options.from instanceof Date) {
      throw new ConfigError({
        backend: BACKEND,
        message:
          "[eventbridge] subscribe({ from: Date }) is not possible: EventBridge keeps no history — replay needs an EventBridge archive (StartReplay), or use kafka/kinesis",
      });
    }
    // The queue holds what the rule delivered since it was created, whether or not we poll: checking
    // that it exists is what makes the subscription live.
    try {
      await this.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
    } catch (error) {
      throw new ConnectionError({
        backend: BACKEND,
        message: `[eventbridge] cannot read queue ${queueUrl} (${(error as Error)?.name}: ${(error as Error)?.message}) — check EVENTBRIDGE_QUEUE_URL and sqs:GetQueueAttributes`,
        cause: error,
      });
    }
    const onError = options.onError ?? ((f: SubscriptionError) => this.logger.warn(f.error.message, { code: f.error.code }));
    const subscription = new SqsSubscription([...topics], this.client, queueUrl, handler, onError, {
      waitTimeSeconds: this.options.waitTimeSeconds ?? 20,
      malformed: this.options.malformed ?? "leave",
      logger: this.logger,
    });
    this.subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.subscriptions.clear();
    if (this.ownsClient) this.client.destroy();
  }
}

export function createEventBridgeSubscriber(options: EventBridgeSubscriberOptions = {}): EventBridgeSubscriber {
  return new EventBridgeSubscriber(options);
}
