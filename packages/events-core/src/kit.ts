// `@kaireon/events-core/backend`: the kit a backend package is built from. Applications use the
// root entry; backends import only this one. It re-exports (never copies) core's modules and must
// not import the loader or the backend registry (nor config.ts, which reads it): they reach every
// backend, so importing them from here would close an import cycle through each backend package.

export {
  AWS_AUTH_CODES,
  AWS_RETRYABLE_CODES,
  type AwsFailure,
  type AwsFailureKind,
  classifyAwsError,
} from "./aws-errors.js";
export { type BackendContext, type BackendDescriptor, type BackendModule, defineBackend } from "./backend.js";
export { Batcher, type BatcherOptions, type ItemOutcome } from "./batcher.js";
export { type Env, envBoolean, envInt, envList, envString, parseEnv, readConfigFile } from "./env.js";
export {
  CLOUDEVENTS_CONTENT_TYPE,
  type CreateEventOptions,
  DEFAULT_SOURCE,
  type DomainEvent,
  type EventEnvelope,
  parseEvent,
  type SafeParseEventResult,
  safeParseEvent,
  serializeEvent,
} from "./envelope.js";
export {
  authFailedError,
  type EventTooLargeOptions,
  eventTooLargeError,
  publisherClosedError,
  type QueueFullOptions,
  queueFullError,
  toPublishError,
} from "./error-factories.js";
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
  type Sent,
  ValidationError,
  type ValidationIssue,
} from "./errors.js";
export { consoleLogger, silentLogger } from "./logger.js";
export { type BackendOptions, backendOptions, type PublisherContext, type SubscriberContext } from "./options.js";
export { type EntryResult, isRetryable, type PartialRetryOptions, sendWithPartialRetry } from "./partial-retry.js";
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
  DURATION_BUCKETS,
  messagingSystem,
  observeGauge,
  spanContextOf,
  type TraceContext,
  telemetryHistogram,
} from "./telemetry.js";
export { isTopicName, type TopicData, type TopicName, topicNames } from "./topics.js";
