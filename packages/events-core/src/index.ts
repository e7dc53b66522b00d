// The application API: topics, events, ports, errors, the loader, memory and loggers. What only
// backend authors need lives in "@kaireon/events-core/backend" (src/kit.ts), and only there.
// Redaction stays in both: applications log their own URLs too.
export {
  type AsyncApiDocument,
  type AsyncApiOptions,
  asyncApiDocument,
  asyncApiId,
  topicJsonSchemaDraft07,
} from "./asyncapi.js";
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
export type { Env } from "./env.js";
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
  redactSecrets,
  redactUrl,
  urlSecrets,
} from "./redact.js";
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
