// @kaireon/events-eventbridge: EVENT_PUBLISHER=eventbridge.

import { defineBackend } from "@kaireon/events-core/backend";
import { type EventBridgeOptions, eventBridgeOptionsFromEnv } from "./eventbridge-options.js";
import { EventBridgePublisher } from "./eventbridge-publisher.js";
import { EventBridgeSubscriber } from "./eventbridge-subscriber.js";

export { eventBridgeClientConfig, sqsClientConfig } from "./eventbridge-client.js";
export { entrySize, toPutEventsEntry, traceHeaderFromTraceparent } from "./eventbridge-entry.js";
export {
  type EventBridgeEventMeta,
  parseEventBridgeEvent,
  type SafeParseEventBridgeResult,
  safeParseEventBridgeEvent,
} from "./eventbridge-event.js";
export {
  type EventBridgeConfig,
  type EventBridgeOptions,
  eventBridgeOptions,
  eventBridgeOptionsFromEnv,
} from "./eventbridge-options.js";
export {
  createEventBridgePublisher,
  EventBridgePublisher,
  type EventBridgePublisherContext,
  type EventBridgePublisherOptions,
} from "./eventbridge-publisher.js";
export { ensureRuleToQueue, eventPatternFor, type RuleToQueue, type RuleToQueueOptions, ruleNameFor } from "./eventbridge-setup.js";
export {
  createEventBridgeSubscriber,
  EventBridgeSubscriber,
  type EventBridgeSubscriberContext,
  type EventBridgeSubscriberOptions,
} from "./eventbridge-subscriber.js";

export const backend = defineBackend<EventBridgeOptions>({
  id: "eventbridge",
  fromEnv: (env) => eventBridgeOptionsFromEnv(env),
  createPublisher: (options, context) => new EventBridgePublisher(options, { source: context.source, logger: context.logger }),
  createSubscriber: (options, context) => new EventBridgeSubscriber(options, { logger: context.logger }),
});
