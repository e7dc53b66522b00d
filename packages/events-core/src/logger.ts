import type { Logger } from "./ports.js";

function write(level: "debug" | "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) {
  const line = fields ? `${message} ${JSON.stringify(fields)}` : message;
  console[level](line);
}

/** The default logger: console, without debug lines. Pass your own (pino, winston…) via `logger`. */
export const consoleLogger: Logger = {
  debug: () => {},
  info: (m, f) => write("info", m, f),
  warn: (m, f) => write("warn", m, f),
  error: (m, f) => write("error", m, f),
};

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
