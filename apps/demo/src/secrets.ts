// The demo's last line of defence for the secrets its environment holds. The packages redact what
// they print (core's redactUrl), but a client library's own error text may still quote its
// connection URL; so everything the demo logs, serves on /health or prints on failure is scrubbed of
// the secret parts of DATABASE_URL and REDIS_URL (userinfo password, `?password=`…), the SASL
// passwords and DEMO_LIVE_TOKEN.

import { type Env, type Logger, redactSecrets, urlSecrets } from "@kaireon/events-core";

/**
 * Shorter values are not masked: replacing every "ab" in a log would garble it, and such a password
 * guards nothing anyway.
 */
const MIN_SECRET_LENGTH = 4;

const URL_VARIABLES = ["DATABASE_URL", "REDIS_URL"] as const;
const SECRET_VARIABLES = ["DEMO_LIVE_TOKEN", "KAFKA_SASL_PASSWORD", "MSK_SASL_PASSWORD"] as const;

/** The secret strings in `env`: the secret parts of its URLs (raw and %-decoded), and the secret variables. */
export function demoSecrets(env: Env): string[] {
  const secrets = new Set<string>();
  for (const name of URL_VARIABLES) {
    // A blank value is unset (REDIS_URL=" " disables the stream): nothing secret in it.
    for (const secret of urlSecrets(env[name]?.trim() || undefined)) secrets.add(secret);
  }
  for (const name of SECRET_VARIABLES) {
    const value = env[name]?.trim();
    if (value) secrets.add(value);
  }
  return [...secrets].filter((s) => s.length >= MIN_SECRET_LENGTH);
}

export function redactText(text: string, secrets: readonly string[]): string {
  return secrets.length === 0 ? text : redactSecrets(text, secrets);
}

/** Every string inside `value` (objects, arrays) with the secrets masked; other values as they are. */
export function redactDeep<T>(value: T, secrets: readonly string[], depth = 0): T {
  if (secrets.length === 0 || depth > 10) return value;
  if (typeof value === "string") return redactText(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets, depth + 1)) as T;
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, secrets, depth + 1)])) as T;
  }
  return value;
}

/** A logger that masks the secrets in each message and its fields before `logger` sees them. */
export function redactingLogger(logger: Logger, secrets: readonly string[]): Logger {
  if (secrets.length === 0) return logger;
  const wrap =
    (write: Logger["info"]): Logger["info"] =>
    (message, fields) =>
      write(redactText(message, secrets), fields === undefined ? undefined : redactDeep(fields, secrets));
  return {
    debug: wrap(logger.debug.bind(logger)),
    info: wrap(logger.info.bind(logger)),
    warn: wrap(logger.warn.bind(logger)),
    error: wrap(logger.error.bind(logger)),
  };
}

/** Masks the secrets in `error`'s message and stack, and down its cause chain, in place; returns it. */
export function redactError<E>(error: E, secrets: readonly string[]): E {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current instanceof Error; depth++) {
    try {
      current.message = redactText(current.message, secrets);
      if (current.stack) current.stack = redactText(current.stack, secrets);
    } catch {
      // A frozen error: its text cannot change, so the caller prints redactText(message) itself.
    }
    current = current.cause;
  }
  return error;
}
