// @kaireon/events-eventbridge: EVENT_PUBLISHER=eventbridge.

import { defineBackend } from "@kaireon/events-core";
import { type EventBridgeOptions, eventBridgeOptionsFromEnv } from "./eventbridge-options.js";
import { EventBridgePublisher } from "./eventbridge-publisher.js";
import { EventBridgeSubscriber } from "./eventbridge-subscriber.js";

export { entrySize, toPutEventsEntry, traceHeaderFromTraceparent } from "./eventbridge-entry.js";
export { RETRYABLE_ENTRY_CODES } from "./eventbridge-errors.js";
export {
  type EventBridgeEventMeta,
  parseEventBridgeEvent,
  type SafeParseEventBridgeResult,
  safeParseEventBridgeEvent,
} from "./eventbridge-event.js";
export {
  DEFAULT_MAX_ENTRY_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type EventBridgeOptions,
  eventBridgeEnvSchema,
  eventBridgeOptions,
  eventBridgeOptionsFromEnv,
  MAX_ENTRY_BYTES_LIMIT,
} from "./eventbridge-options.js";
export {
  createEventBridgePublisher,
  EventBridgePublisher,
  type EventBridgePublisherOptions,
  eventBridgeClientConfig,
  MAX_ENTRIES_PER_CALL,
  RETRY_BACKOFF,
} from "./eventbridge-publisher.js";
export { ensureRuleToQueue, eventPatternFor, type RuleToQueue, type RuleToQueueOptions, ruleNameFor } from "./eventbridge-setup.js";
export {
  createEventBridgeSubscriber,
  EventBridgeSubscriber,
  type EventBridgeSubscriberOptions,
  sqsClientConfig,
} from "./eventbridge-subscriber.js";

export const backend = defineBackend<EventBridgeOptions>({
  id: "eventbridge",
  fromEnv: (env) => eventBridgeOptionsFromEnv(env),
  createPublisher: (options, context) => new EventBridgePublisher({ ...options, eventSource: context.source, logger: context.logger }),
  createSubscriber: (options, context) =>
    new EventBridgeSubscriber({
      queueUrl: options.queueUrl,
      waitTimeSeconds: options.waitTimeSeconds,
      malformed: options.malformed,
      region: options.region,
      sqsEndpoint: options.sqsEndpoint,
      requestTimeoutMs: options.requestTimeoutMs,
      logger: context.logger,
    }),
});
