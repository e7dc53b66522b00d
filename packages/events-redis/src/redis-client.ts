// ioredis wiring shared by the publisher and the subscriber: one place that decides connection
// options, keeps the password out of every log line and error, and maps ioredis errors to coded
// EventsErrors. ioredis takes the password from the URL's userinfo or its query (`?password=`), and
// its errors can carry it (a ReplyError's `command.args` of AUTH): text is masked with urlSecrets,
// and an error's cause is a redacted copy, never the ioredis error itself.

import {
  authFailedError,
  backoffDelay,
  ConnectionError,
  EventsError,
  type Logger,
  PublishError,
  redactSecrets,
  redactUrl,
  type TopicName,
  urlSecrets,
} from "@kaireon/events-core/backend";
import { type RedisOptions as IORedisOptions, Redis } from "ioredis";
import type { RedisOptions } from "./redis-options.js";

export const BACKEND = "redis";

/** The channel (pub/sub) or stream key (streams) of a topic. */
export function keyOf(options: Pick<RedisOptions, "prefix">, topic: TopicName): string {
  return `${options.prefix}${topic}`;
}

/** Text safe to log or put in an error: no secret of the URL (userinfo or query) survives. */
export function safeText(options: Pick<RedisOptions, "url">, text: string): string {
  return redactSecrets(text, urlSecrets(options.url));
}

// Fields of a Node/ioredis error worth keeping for diagnosis; everything else (`command` with its
// arguments, `previousErrors`, the socket) is left behind.
const KEPT_FIELDS = ["code", "errno", "syscall", "address", "port"] as const;

/** A copy of `error` fit to be a cause: name, masked message and stack, a few diagnostic fields. */
export function redactedCause(options: Pick<RedisOptions, "url">, error: unknown): Error {
  const source = (error ?? {}) as Record<string, unknown>;
  const copy = new Error(safeText(options, (error as Error)?.message ?? String(error)));
  copy.name = typeof source.name === "string" ? source.name : "Error";
  copy.stack = typeof source.stack === "string" ? safeText(options, source.stack) : `${copy.name}: ${copy.message}`;
  for (const field of KEPT_FIELDS) {
    const value = source[field];
    if (typeof value === "string") (copy as unknown as Record<string, unknown>)[field] = safeText(options, value);
    else if (typeof value === "number") (copy as unknown as Record<string, unknown>)[field] = value;
  }
  return copy;
}

export function describeServer(options: Pick<RedisOptions, "url">): string {
  return redactUrl(options.url);
}

/**
 * A client for one role. The publisher's never queues offline (we bound what waits ourselves) and
 * never re-sends a command after a reconnect (its caller was already told it failed); readers wait
 * through reconnects.
 */
export function createClient(options: RedisOptions, role: "publisher" | "subscriber", logger: Logger, extra: IORedisOptions = {}): Redis {
  const common: IORedisOptions = {
    connectionName: `kaireon-events-${role}`,
    connectTimeout: options.connectTimeoutMs,
    lazyConnect: true,
    // Reconnect forever with capped, jittered backoff: Redis coming back must need no restart.
    retryStrategy: (attempt) => 50 + backoffDelay(attempt, { baseMs: 100, maxMs: 2_000 }),
  };
  const roleOptions: IORedisOptions =
    role === "publisher"
      ? {
          enableOfflineQueue: false,
          autoResendUnfulfilledCommands: false,
          maxRetriesPerRequest: 0,
          // No commandTimeout: it arms one timer per command. The publisher bounds each pipeline
          // with one timer instead.
        }
      : { enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: true };
  const client = new Redis(options.url, { ...common, ...roleOptions, ...extra });
  // Without a listener ioredis prints every connection error itself; we log one line per outage.
  let reported = false;
  client.on("error", (error: Error) => {
    if (reported) return;
    reported = true;
    logger.warn(`[redis] ${role} connection to ${describeServer(options)} failed: ${safeText(options, error.message)}; reconnecting`);
  });
  client.on("ready", () => {
    if (!reported) return;
    reported = false;
    logger.info(`[redis] ${role} reconnected to ${describeServer(options)}`);
  });
  return client;
}

export function isAuthError(error: unknown): boolean {
  return /WRONGPASS|NOAUTH|NOPERM|invalid password|invalid username/i.test((error as Error)?.message ?? "");
}

/** Maps an ioredis error to a coded EventsError whose message names the server without its password. */
export function toEventsError(options: Pick<RedisOptions, "url">, error: unknown): EventsError {
  if (EventsError.isInstance(error)) return error;
  const message = safeText(options, (error as Error)?.message ?? String(error));
  const where = describeServer(options);
  const cause = redactedCause(options, error);
  if (isAuthError(error)) {
    return authFailedError({
      backend: BACKEND,
      message: `[redis] ${where} refused the credentials (${message}) — check the user and password in REDIS_URL`,
      cause,
    });
  }
  if (/Command timed out/i.test(message)) {
    return new PublishError({
      backend: BACKEND,
      code: "PUBLISH_TIMEOUT",
      message: `[redis] no reply from ${where} within REDIS_PUBLISH_TIMEOUT_MS; the event may or may not have been sent`,
      sent: "unknown",
      cause,
    });
  }
  if (
    /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EPIPE|MaxRetriesPerRequest|connect/i.test(
      message,
    )
  ) {
    return new ConnectionError({
      backend: BACKEND,
      message: `[redis] cannot reach ${where}: ${message} — check REDIS_URL and that Redis is running`,
      cause,
    });
  }
  return new PublishError({ backend: BACKEND, message: `[redis] ${where} rejected the command: ${message}`, cause });
}
