// Helpers every package's tests had written for themselves: a name no other run uses, loggers that
// print nothing (or keep what they are told), and the ConfigError a bad configuration throws.

import { type ConfigError, EventsError, type Logger, silentLogger } from "@kaireon/events-core";

export { silentLogger };

let counter = 0;

/**
 * `<prefix><sep><time><sep><n><sep><random>`: unique across runs (time, random) and within one (a
 * counter), for topics, streams, queues, tables and groups on services other helpers share.
 */
export function uniqueName(prefix: string, separator = "-"): string {
  const parts = [prefix, Date.now().toString(36), (counter++).toString(36), Math.random().toString(36).slice(2, 6)];
  return parts.join(separator);
}

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: Record<string, unknown> | undefined;
}

export interface RecordingLogger extends Logger {
  readonly lines: LogLine[];
  /** The messages of these levels (default warn and error), in order. */
  messages(...levels: LogLine["level"][]): string[];
}

/** A logger that prints nothing and keeps every line, for tests that check what was logged. */
export function recordingLogger(): RecordingLogger {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine["level"]) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields });
    };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    messages: (...levels) => {
      const wanted = levels.length > 0 ? levels : ["warn", "error"];
      return lines.filter((l) => wanted.includes(l.level)).map((l) => l.message);
    },
  };
}

/**
 * The ConfigError (CONFIG_INVALID) `build` throws. Fails the test when it returns instead, or throws
 * anything else, so a test can go straight on to the message.
 */
export function configErrorOf(build: () => unknown): ConfigError {
  try {
    build();
  } catch (error) {
    if (EventsError.isInstance(error) && error.code === "CONFIG_INVALID") return error as ConfigError;
    throw error;
  }
  throw new Error("expected a ConfigError (CONFIG_INVALID), but nothing was thrown");
}
