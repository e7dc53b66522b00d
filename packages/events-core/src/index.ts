// The application API: topics, events, ports, errors, the loader, memory and loggers. What only
// backend authors need lives in "@kaireon/events-core/backend" (src/kit.ts); the names below marked
// @deprecated are that kit, kept here for one release so no import breaks. Redaction stays in both:
// applications log their own URLs too.
export {
  type AsyncApiDocument,
  type AsyncApiOptions,
  asyncApiDocument,
  asyncApiId,
  topicJsonSchemaDraft07,
} from "./asyncapi.js";
export {
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type BackendContext,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type BackendDescriptor,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type BackendModule,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  defineBackend,
} from "./backend.js";
export {
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  Batcher,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type BatcherOptions,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type ItemOutcome,
} from "./batcher.js";
export {
  type BackendId,
  backendPackages,
  type CoreConfig,
  type EventPublisherValue,
  eventPublisherValues,
  type PackageBackendId,
  readCoreConfig,
} from "./config.js";
export { DisabledPublisher } from "./disabled-publisher.js";
export {
  type Env,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  envBoolean,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  envInt,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  envList,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  envString,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  parseEnv,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  readConfigFile,
} from "./env.js";
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
  errorClassOf,
  type KnownErrorCode,
  PublishError,
  ValidationError,
  type ValidationIssue,
} from "./errors.js";
export {
  type LoadOptions,
  loadBackend,
  loadPublisher,
  loadSubscriber,
} from "./loader.js";
export {
  consoleLogger,
  silentLogger,
} from "./logger.js";
export {
  createMemoryPublisher,
  createMemorySubscriber,
  defaultMemoryBus,
  MemoryBus,
  type MemoryOptions,
  MemoryPublisher,
  MemorySubscriber,
} from "./memory-backend.js";
export {
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type EntryResult,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type PartialRetryOptions,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  sendWithPartialRetry,
} from "./partial-retry.js";
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
export {
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type Delivery,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  PublisherBase,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type PublisherBaseOptions,
} from "./publisher-base.js";
export {
  redactSecrets,
  redactUrl,
  urlSecrets,
} from "./redact.js";
export {
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type BackoffOptions,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  backoffDelay,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  sleep,
} from "./retry.js";
export {
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type DeliveryOutcome,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type HandlerPolicy,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type Inbox,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  SubscriberBase,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type SubscriberBaseOptions,
  /** @deprecated Backend-author API: import it from "@kaireon/events-core/backend"; the root drops it in a later minor. */
  type TransportSubscription,
} from "./subscriber-base.js";
export {
  DURATION_BUCKETS,
  messagingSystem,
  observeGauge,
  spanContextOf,
  type TraceContext,
  telemetryHistogram,
} from "./telemetry.js";
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
export {
  isTrusted,
  trusted,
} from "./trusted.js";
export {
  uuidv7,
  uuidv7Time,
} from "./uuid.js";
