// The client seam. Everything else in the package talks to these small interfaces; createKafkaClient
// picks the implementation: kafkajs (below) or @platformatic/kafka (kafka-client-platformatic.ts).
// The client errors' mapping to core's coded errors is here too (the end of the file).

import type { ConnectionOptions } from "node:tls";
import type { Logger } from "@kaireon/events-core/backend";
import {
  authFailedError,
  backoffDelay,
  CLOUDEVENTS_CONTENT_TYPE,
  ConnectionError,
  EventsError,
  PublishError,
  redactSecrets,
  sleep,
} from "@kaireon/events-core/backend";
import { CompressionTypes, Kafka, type KafkaConfig, logLevel, type Message, Partitioners, type SASLOptions } from "kafkajs";
import { createPlatformaticClient } from "./kafka-client-platformatic.js";
import { groupJoin } from "./kafka-group-join.js";
import { stopKafkajsIdlePolling } from "./kafka-kafkajs-idle-poll.js";
import type { KafkaOptions } from "./kafka-options.js";

/** The Kafka client libraries behind the seam (KAFKA_CLIENT / MSK_CLIENT). */
export const kafkaClients = ["platformatic", "kafkajs"] as const;
export type KafkaClientName = (typeof kafkaClients)[number];
/**
 * The client when none is chosen: @platformatic/kafka, which passes the whole suite on every listener
 * and re-authenticates capped SASL sessions by itself (the package README has the figures).
 */
export const DEFAULT_KAFKA_CLIENT: KafkaClientName = "platformatic";

/** SASL as the client needs it: the env mechanisms, or an OAUTHBEARER token provider (MSK IAM). */
export type KafkaSasl =
  | { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string }
  | { mechanism: "oauthbearer"; oauthBearerProvider: () => Promise<{ value: string }> };

export type KafkaCompression = "none" | "gzip";

export interface KafkaConnection {
  /** Which client library speaks to the brokers; DEFAULT_KAFKA_CLIENT when unset. */
  client?: KafkaClientName;
  brokers: string[];
  clientId: string;
  /** `true` for TLS with the system CAs, or Node TLS options (e.g. `{ ca: [pem] }`). */
  ssl?: boolean | ConnectionOptions;
  sasl?: KafkaSasl;
  /** TCP connect timeout per broker (ms). */
  connectionTimeoutMs: number;
  /** How long the client itself keeps retrying a failed request before giving up (ms, roughly). */
  retryBudgetMs: number;
  /**
   * kafkajs `reauthenticationThreshold`: when the broker caps SASL sessions (connections.max.reauth.ms,
   * e.g. MSK IAM), re-authenticate this many ms before the session expires. kafkajs' default (10000) when unset.
   */
  reauthenticationThresholdMs?: number;
}

/**
 * One event as a Kafka record. Each client builds its own library's message from it, with the
 * headers every record carries: `content-type: application/cloudevents+json`, and `traceparent`
 * when the event has one.
 */
export interface OutgoingRecord {
  topic: string;
  key: string;
  /** The envelope's JSON. */
  value: string;
  /** The envelope's creation trace context (W3C), for consumers that read the record header. */
  traceparent: string | undefined;
}

export interface IncomingRecord {
  topic: string;
  partition: number;
  offset: string;
  value: Buffer | null;
  timestamp: string;
}

export interface ProducerPort {
  connect(): Promise<void>;
  /** One request per broker for all records; resolves only when every partition acked (acks=all). */
  sendBatch(records: readonly OutgoingRecord[], compression: KafkaCompression, ackTimeoutMs: number): Promise<void>;
  disconnect(): Promise<void>;
}

/** What to do with a record once `onRecord` is done with it. */
export type RecordVerdict = "commit" | "hold";

export interface ConsumerPort {
  connect(): Promise<void>;
  subscribe(topics: string[], fromBeginning: boolean): Promise<void>;
  /**
   * Runs the fetch loop, one record at a time per partition. A record's offset is committed only
   * after `onRecord` resolved `commit` for it; `hold` leaves it and the rest of its batch uncommitted
   * (the group reads them again), for a subscription that is closing.
   */
  run(onRecord: (record: IncomingRecord) => Promise<RecordVerdict>): Promise<void>;
  seek(topic: string, partition: number, offset: string): void;
  /**
   * The consumer crashed. `restart`: the client restarts it itself (a retriable error); otherwise it
   * has stopped for good (e.g. SASL refused after a password rotation) and reads nothing more.
   */
  onCrash(listener: (error: unknown, restart: boolean) => void): void;
  /** Resolves at the first group join (the consumer has its partitions); rejects on a crash before it, or at `signal`. */
  joined(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  disconnect(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  configEntries?: Array<{ name: string; value: string }>;
}

export interface AdminPort {
  connect(): Promise<void>;
  createTopics(topics: TopicSpec[]): Promise<boolean>;
  listTopics(): Promise<string[]>;
  /** partition → [low, high) offsets. */
  topicOffsets(topic: string): Promise<Array<{ partition: number; low: string; high: string }>>;
  /** partition → first offset whose timestamp is at or after `timestamp` (the end when none is). */
  offsetsByTimestamp(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: string }>>;
  /** partition → committed offset of the group ("-1" when none). */
  committedOffsets(groupId: string, topic: string): Promise<Array<{ partition: number; offset: string }>>;
  describeCluster(): Promise<{ brokers: number }>;
  disconnect(): Promise<void>;
}

export interface KafkaClient {
  producer(): ProducerPort;
  consumer(groupId: string): ConsumerPort;
  admin(): AdminPort;
  /**
   * True when the client library's own OpenTelemetry instrumentation makes a `process` span per
   * record it hands over (kafkajs patched by @opentelemetry/instrumentation-kafkajs): the subscriber
   * then makes no second one (Inbox.processSpans).
   */
  tracesRecords?(): boolean;
}

const compressionCodes = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP } as const;

function secretsOf(sasl: KafkaSasl | undefined): string[] {
  return sasl && "password" in sasl ? [sasl.password] : [];
}

/** kafkajs logs through our logger (warn and up); secrets are stripped just in case. */
function logCreator(logger: Logger, secrets: string[]) {
  return () =>
    ({ level, log }: { level: number; log: { message: string; [k: string]: unknown } }) => {
      const { message, timestamp: _t, logger: _l, ...rest } = log;
      const text = redactSecrets(`[kafka] kafkajs: ${message}`, secrets);
      const fields = JSON.parse(redactSecrets(JSON.stringify(rest), secrets)) as Record<string, unknown>;
      if (level <= logLevel.WARN) logger.warn(text, fields);
      else logger.debug(text, fields);
    };
}

export function createKafkaClient(connection: KafkaConnection, logger: Logger): KafkaClient {
  return (connection.client ?? DEFAULT_KAFKA_CLIENT) === "platformatic"
    ? createPlatformaticClient(connection, logger)
    : createKafkajsClient(connection, logger);
}

function createKafkajsClient(connection: KafkaConnection, logger: Logger): KafkaClient {
  stopKafkajsIdlePolling();
  // kafkajs retries with exponential backoff (factor 0.2, multiplier 2) up to maxRetryTime; these
  // numbers keep its own retries within roughly retryBudgetMs, so a dead broker surfaces as an error.
  const maxRetryTime = Math.max(500, Math.min(5000, Math.floor(connection.retryBudgetMs / 4)));
  const config: KafkaConfig = {
    brokers: connection.brokers,
    clientId: connection.clientId,
    connectionTimeout: connection.connectionTimeoutMs,
    authenticationTimeout: Math.max(connection.connectionTimeoutMs, 5000),
    requestTimeout: Math.max(5000, Math.min(30_000, connection.retryBudgetMs)),
    retry: { initialRetryTime: 200, maxRetryTime, retries: Math.max(2, Math.ceil(connection.retryBudgetMs / maxRetryTime)) },
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger, secretsOf(connection.sasl)),
  };
  if (connection.ssl !== undefined) config.ssl = connection.ssl;
  if (connection.sasl) config.sasl = connection.sasl as SASLOptions;
  if (connection.reauthenticationThresholdMs !== undefined) config.reauthenticationThreshold = connection.reauthenticationThresholdMs;
  const kafka = new Kafka(config);

  return {
    // The instrumentation wraps Kafka.prototype.consumer (shimmer marks a wrapped function) and then
    // every eachBatch: a `process` CONSUMER span per record of the batch, linked to its trace header.
    tracesRecords: () => (Kafka.prototype.consumer as { __wrapped?: boolean }).__wrapped === true,
    producer(): ProducerPort {
      // Idempotent + one request in flight: kafkajs breaks sequence numbers with more (kafkajs#598).
      // The partitioner named: kafkajs' default (Java-compatible murmur2, as platformatic's
      // compatibilityPartitioner), which left unnamed makes kafkajs log a warning in every process.
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      return {
        connect: () => producer.connect(),
        disconnect: () => producer.disconnect(),
        async sendBatch(records, compression, ackTimeoutMs) {
          const byTopic = new Map<string, Message[]>();
          for (const r of records) {
            // A fresh headers object per record: an instrumentation (the kafkajs one) injects its own
            // context into it, and a shared one would carry it to every other record.
            const headers: Record<string, string> =
              r.traceparent === undefined
                ? { "content-type": CLOUDEVENTS_CONTENT_TYPE }
                : { "content-type": CLOUDEVENTS_CONTENT_TYPE, traceparent: r.traceparent };
            const message: Message = { key: r.key, value: r.value, headers };
            const list = byTopic.get(r.topic);
            if (list) list.push(message);
            else byTopic.set(r.topic, [message]);
          }
          await producer.sendBatch({
            acks: -1,
            timeout: ackTimeoutMs,
            compression: compressionCodes[compression],
            topicMessages: Array.from(byTopic, ([topic, messages]) => ({ topic, messages })),
          });
        },
      };
    },

    consumer(groupId: string): ConsumerPort {
      const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: true, retry: { retries: 10 } });
      const join = groupJoin(groupId);
      consumer.on(consumer.events.GROUP_JOIN, () => join.joined());
      const crashListeners: Array<(error: unknown, restart: boolean) => void> = [];
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) join.failed(payload.error);
        for (const listener of crashListeners) listener(payload.error, payload.restart);
      });
      return {
        connect: () => consumer.connect(),
        disconnect: () => consumer.disconnect(),
        subscribe: (topics, fromBeginning) => consumer.subscribe({ topics, fromBeginning }),
        seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset }),
        onCrash: (listener) => {
          crashListeners.push(listener);
        },
        // eachBatch with manual resolve, not eachMessage: eachMessage commits every record it returned
        // from, and a record whose handler was cut short by close() must stay uncommitted.
        run: (onRecord) =>
          consumer.run({
            autoCommit: true,
            autoCommitInterval: 1000,
            partitionsConsumedConcurrently: 1,
            eachBatchAutoResolve: false,
            eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }) => {
              for (const message of batch.messages) {
                if (!isRunning() || isStale()) return;
                const verdict = await onRecord({
                  topic: batch.topic,
                  partition: batch.partition,
                  offset: message.offset,
                  value: message.value,
                  timestamp: message.timestamp,
                });
                if (verdict === "hold") return;
                resolveOffset(message.offset);
                await commitOffsetsIfNecessary();
                await heartbeat();
              }
            },
          }),
        joined: (timeoutMs, signal) => join.waitUntilJoined(timeoutMs, signal),
      };
    },

    admin(): AdminPort {
      const admin = kafka.admin();
      return {
        connect: () => admin.connect(),
        disconnect: () => admin.disconnect(),
        // A topic just created may briefly be unknown to the metadata kafkajs waits on for leaders.
        createTopics: (topics) =>
          retryRetriable(connection.retryBudgetMs, async () => {
            const existing = new Set(await admin.listTopics());
            const missing = topics.filter((t) => !existing.has(t.topic));
            return missing.length === 0 ? false : admin.createTopics({ topics: missing, waitForLeaders: true });
          }),
        listTopics: () => admin.listTopics(),
        // Right after a broker starts or a topic is created, leaders and the group coordinator may
        // not be known yet; kafkajs's admin does not retry NOT_LEADER / NOT_COORDINATOR here.
        topicOffsets: (topic) =>
          retryRetriable(connection.retryBudgetMs, async () =>
            (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, low: p.low, high: p.high })),
          ),
        offsetsByTimestamp: (topic, timestamp) =>
          retryRetriable(connection.retryBudgetMs, async () =>
            (await admin.fetchTopicOffsetsByTimestamp(topic, timestamp)).map((p) => ({ partition: p.partition, offset: p.offset })),
          ),
        committedOffsets: (groupId, topic) =>
          retryRetriable(connection.retryBudgetMs, async () => {
            const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
            return (entry?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset }));
          }),
        describeCluster: async () => ({ brokers: (await admin.describeCluster()).brokers.length }),
      };
    },
  };
}

async function retryRetriable<T>(budgetMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable !== true || Date.now() >= deadline) throw error;
      await sleep(backoffDelay(attempt, { baseMs: 200, maxMs: 2000 }) + 50);
    }
  }
}

/** What the rest of the package needs to know about a client error, without importing a client. */
export function classifyClientError(error: unknown): "auth" | "connection" | "other" {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  let connection = false;
  while (queue.length > 0) {
    const e = queue.shift();
    if (!e || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    const { name, type, code, apiId } = e as { name?: string; type?: string; code?: string; apiId?: string };
    if (name === "KafkaJSSASLAuthenticationError" || type === "SASL_AUTHENTICATION_FAILED" || type === "ILLEGAL_SASL_STATE") return "auth";
    // @platformatic/kafka: AuthenticationError, or the broker's SASL error code.
    if (code === "PLT_KFK_AUTHENTICATION" || apiId === "SASL_AUTHENTICATION_FAILED" || apiId === "ILLEGAL_SASL_STATE") return "auth";
    if (
      name === "KafkaJSConnectionError" ||
      name === "KafkaJSConnectionClosedError" ||
      name === "KafkaJSBrokerNotFound" ||
      name === "KafkaJSRequestTimeoutError" ||
      code === "PLT_KFK_NETWORK" ||
      code === "PLT_KFK_TIMEOUT" ||
      code === "ECONNREFUSED" ||
      code === "ECONNRESET"
    )
      connection = true;
    const { originalError, cause, errors } = e as { originalError?: unknown; cause?: unknown; errors?: unknown };
    queue.push(originalError ?? cause);
    // @platformatic/kafka's MultipleErrors (an AggregateError) carries the attempts' errors.
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return connection ? "connection" : "other";
}

// kafkajs errors → core's coded errors. A wrong password becomes AUTH_FAILED naming the mechanism
// (kafkajs does not retry it, so it is fast); the password itself never appears. An EventsError that
// caller code raised inside the client (an OAUTHBEARER token provider) is already coded: it passes as is.

export function describeSasl(options: KafkaOptions): string {
  return options.sasl ? `SASL ${options.sasl.mechanism.toUpperCase()}` : "no SASL";
}

/** What auth and connection errors tell the user to check; the variables of the package that built the options. */
export function errorHints(options: KafkaOptions): { auth: string; connection: string } {
  // The KAFKA_* names are only right for options read from KAFKA_*; another backend without hints
  // gets advice that names no variable rather than one that does not exist (MSK_SASL_MECHANISM).
  const kafka = (options.backend ?? "kafka") === "kafka";
  return {
    auth:
      options.hints?.auth ??
      (kafka
        ? "check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
        : "check the SASL mechanism, username and password"),
    connection:
      options.hints?.connection ?? (kafka ? "check KAFKA_BROKERS, TLS and the network" : "check the broker addresses, TLS and the network"),
  };
}

/** The first EventsError in the cause chain (kafkajs keeps a thrown error as originalError or cause). */
function codedError(error: unknown): EventsError | undefined {
  const seen = new Set<unknown>();
  let e: unknown = error;
  while (e && typeof e === "object" && !seen.has(e)) {
    if (EventsError.isInstance(e)) return e;
    seen.add(e);
    e = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What a cause may keep: the fields callers and retry logic read. Everything else (sockets, brokers, config) is dropped. */
const causeFields = ["type", "code", "retriable"] as const;

/**
 * A copy of a client error safe to keep as `cause`: name, message and stack with the secrets masked,
 * type/code/retriable kept, and its own cause (kafkajs: originalError) copied the same way. kafkajs
 * errors keep what they were built from, so the raw object could carry a password or broker details
 * into every log line that prints the error with its causes.
 */
export function redactedCause(error: unknown, secrets: readonly string[], depth = 0): unknown {
  if (error === null || error === undefined) return undefined;
  if (typeof error !== "object") return redactSecrets(String(error), secrets);
  const source = error as Error & Record<string, unknown>;
  // @platformatic/kafka's ProtocolError says what the broker said in serverErrorMessage, not its message.
  const said = typeof source.serverErrorMessage === "string" && source.serverErrorMessage ? `: ${source.serverErrorMessage}` : "";
  const copy = new Error(redactSecrets(`${String(source.message ?? "")}${said}`, secrets)) as Error & Record<string, unknown>;
  copy.name = typeof source.name === "string" ? source.name : "Error";
  copy.stack = typeof source.stack === "string" ? redactSecrets(source.stack, secrets) : `${copy.name}: ${copy.message}`;
  for (const field of causeFields) {
    const value = source[field];
    if (typeof value === "string") copy[field] = redactSecrets(value, secrets);
    else if (typeof value === "number" || typeof value === "boolean") copy[field] = value;
  }
  // @platformatic/kafka's MultipleErrors (its retries) has no cause: its last attempt's error is it,
  // and carries the broker's own reason (e.g. why an OAUTHBEARER token was refused).
  const attempts = Array.isArray(source.errors) ? (source.errors as unknown[]) : [];
  const inner = source.originalError ?? source.cause ?? attempts[attempts.length - 1];
  // Depth-bounded: a cause chain can be cyclic.
  if (inner !== undefined && inner !== error && depth < 8) {
    const next = EventsError.isInstance(inner) ? inner : redactedCause(inner, secrets, depth + 1);
    if (next !== undefined) Object.defineProperty(copy, "cause", { value: next, enumerable: false, writable: true, configurable: true });
  }
  return copy;
}

/**
 * The message with what it hides: @platformatic/kafka reports "Producing messages failed." or
 * "produce failed 3 times." and keeps the reasons in `errors` (an AggregateError) and `cause`.
 */
function clientErrorMessage(error: unknown): string {
  const top = (error as Error)?.message ?? String(error);
  const inner: string[] = [];
  const seen = new Set<unknown>([error]);
  const queue: unknown[] = [];
  const push = (e: unknown) => {
    const { errors, cause } = (e ?? {}) as { errors?: unknown; cause?: unknown };
    if (Array.isArray(errors)) queue.push(...errors);
    if (cause) queue.push(cause);
  };
  push(error);
  while (queue.length > 0 && inner.length < 4) {
    const e = queue.shift();
    if (!e || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    const message = (e as Error).message;
    if (typeof message === "string" && message && message !== top && !inner.includes(message)) inner.push(message);
    push(e);
  }
  return inner.length === 0 ? top : `${top} (${inner.join("; ")})`;
}

export function toEventsError(error: unknown, options: KafkaOptions, what: string): EventsError {
  const coded = codedError(error);
  if (coded) return coded;
  const backend = options.backend ?? "kafka";
  const secrets = options.sasl && "password" in options.sasl ? [options.sasl.password] : [];
  const reason = redactSecrets(clientErrorMessage(error), secrets);
  const cause = redactedCause(error, secrets);
  const brokers = options.brokers.join(",");
  const hints = errorHints(options);
  switch (classifyClientError(error)) {
    case "auth": {
      const user = options.sasl && "username" in options.sasl ? ` for user "${options.sasl.username}"` : "";
      return authFailedError({
        backend,
        message: `[${backend}] ${describeSasl(options)} authentication failed${user} at ${brokers} — ${hints.auth}`,
        details: { mechanism: options.sasl?.mechanism, brokers: options.brokers },
        cause,
      });
    }
    case "connection":
      return new ConnectionError({
        backend,
        message: `[${backend}] ${what}: cannot reach the brokers ${brokers} (${reason}) — ${hints.connection}`,
        details: { brokers: options.brokers },
        cause,
      });
    default:
      return new PublishError({ backend, message: `[${backend}] ${what}: ${reason}`, cause });
  }
}
