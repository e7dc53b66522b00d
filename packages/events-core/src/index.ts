export { type AsyncApiDocument, type AsyncApiOptions, asyncApiDocument, asyncApiId, topicJsonSchemaDraft07 } from "./asyncapi.js";
export { type BackendContext, type BackendDescriptor, type BackendModule, defineBackend } from "./backend.js";
export { Batcher, type BatcherOptions, type ItemOutcome } from "./batcher.js";
export {
  type BackendId,
  backendPackages,
  type CoreConfig,
  type Env,
  type EventPublisherValue,
  envBoolean,
  envInt,
  envList,
  envString,
  eventPublisherValues,
  parseEnv,
  readConfigFile,
  readCoreConfig,
} from "./config.js";
export { DisabledPublisher } from "./disabled-publisher.js";
export {
  CLOUDEVENTS_CONTENT_TYPE,
  type CreateEventOptions,
  createEvent,
  DEFAULT_SOURCE,
  type DomainEvent,
  type EventEnvelope,
  eventSchemas,
  parseEvent,
  type SafeParseEventResult,
  safeParseEvent,
  serializeEvent,
} from "./envelope.js";
export {
  BackendNotInstalledError,
  ConfigError,
  ConnectionError,
  type ErrorCode,
  EventsError,
  type EventsErrorOptions,
  PublishError,
  ValidationError,
  type ValidationIssue,
} from "./errors.js";
export { type LoadOptions, loadBackend, loadPublisher, loadSubscriber } from "./loader.js";
export { consoleLogger, silentLogger } from "./logger.js";
export {
  createMemoryPublisher,
  createMemorySubscriber,
  defaultMemoryBus,
  MemoryBus,
  type MemoryOptions,
  MemoryPublisher,
  MemorySubscriber,
} from "./memory-backend.js";
export { type EntryResult, type PartialRetryOptions, sendWithPartialRetry } from "./partial-retry.js";
export type {
  EventHandler,
  Logger,
  MessageContext,
  Publisher,
  PublisherMetrics,
  PublishResult,
  ReadinessReport,
  SubscribeOptions,
  Subscriber,
  Subscription,
  SubscriptionError,
} from "./ports.js";
export { type Delivery, PublisherBase, type PublisherBaseOptions } from "./publisher-base.js";
export { redactSecrets, redactUrl, urlSecrets } from "./redact.js";
export { type BackoffOptions, backoffDelay, sleep } from "./retry.js";
export {
  type DeliveryOutcome,
  type HandlerPolicy,
  type Inbox,
  SubscriberBase,
  type SubscriberBaseOptions,
  type TransportSubscription,
} from "./subscriber-base.js";
export {
  type DecisionMadeV1,
  decisionMadeV1Schema,
  type InteractionRecordedV1,
  type InteractionType,
  interactionRecordedV1Schema,
  interactionTypes,
  isTopicName,
  type TopicData,
  type TopicName,
  topicNames,
  topicSchemas,
} from "./topics.js";
export { isTrusted, trusted } from "./trusted.js";
export { uuidv7, uuidv7Time } from "./uuid.js";
