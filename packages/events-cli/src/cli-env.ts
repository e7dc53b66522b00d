// The environment a command runs with: the process's, optionally with an env file over it, and the
// masking used whenever any of it is printed.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as util from "node:util";
import { type Env, type Logger, redactUrl } from "@kaireon/events-core";
import { CliFailure } from "./cli-errors.js";

/** Variables any backend or the loader reads; `check` prints these. */
const RELEVANT = /^(EVENT_|REDIS_|KAFKA_|MSK_|KINESIS_|EVENTBRIDGE_|AWS_)/;
/** A variable (or option) whose value is a secret whatever it looks like. */
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL/i;
/** Option names that contain KEY but are not secrets. */
const NOT_SECRET = /^(partitionKey|keyPrefix)$/i;

export function readEnvFile(path: string, cwd: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), "utf8");
  } catch (error) {
    throw new CliFailure(`cannot read env file ${path} (${(error as NodeJS.ErrnoException).code ?? "error"}) — check the path`, "ENV_FILE");
  }
  const parse = (util as { parseEnv?: (content: string) => Record<string, string> }).parseEnv;
  if (!parse) throw new CliFailure("env files need Node ≥ 20.12 (util.parseEnv)", "NODE_TOO_OLD");
  return parse(text);
}

/** `file` over `base`: variables the file sets win, the rest (credentials, say) carry over. */
export function withEnvFile(base: Env, file: string | undefined, cwd: string): Env {
  return file === undefined ? base : { ...base, ...readEnvFile(file, cwd) };
}

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !NOT_SECRET.test(name);
}

function looksLikeUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
}

export function maskValue(name: string, value: string): string {
  if (isSecretName(name)) return value === "" ? "" : "***";
  // Only a URL with userinfo or a query can carry a secret; others print as given.
  return looksLikeUrl(value) && /[@?]/.test(value) ? redactUrl(value) : value;
}

/** The backend-related variables of `env`, sorted, secrets masked. */
export function relevantEnv(env: Env): [string, string][] {
  return Object.entries(env)
    .filter((entry): entry is [string, string] => RELEVANT.test(entry[0]) && entry[1] !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => [name, maskValue(name, value)]);
}

/** A resolved options object as JSON-able data: secrets masked, URLs redacted, functions and clients left out. */
export function maskOptions(value: unknown, name = "", depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === "string") {
    // A CA bundle or key file's content: its size says enough (and a private key is a secret).
    if (value.includes("\n") && value.length > 120) return `<${value.length} characters>`;
    return maskValue(name, value);
  }
  if (typeof value === "number" || typeof value === "boolean") return isSecretName(name) ? "***" : value;
  if (typeof value === "function" || typeof value === "symbol" || typeof value === "bigint") return undefined;
  if (depth > 4) return "…";
  if (Array.isArray(value)) return value.map((v) => maskOptions(v, name, depth + 1));
  if (value instanceof Date) return value.toISOString();
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return `<${proto?.constructor?.name ?? "object"}>`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (isSecretName(k) && v !== undefined && v !== null && typeof v !== "object") out[k] = "***";
    else {
      const masked = maskOptions(v, k, depth + 1);
      if (masked !== undefined) out[k] = masked;
    }
  }
  return out;
}

/** Backend log lines go to stderr, warnings and errors only, so stdout stays the command's output. */
export function stderrLogger(stderr: NodeJS.WritableStream, verbose = false): Logger {
  const line = (level: string, message: string, fields?: Record<string, unknown>) => {
    // A client library's stack trace in a warning is noise on a command line; the message says it.
    const { stack: _stack, ...rest } = fields ?? {};
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(maskOptions(rest))}` : "";
    stderr.write(`${level}: ${message}${extra}\n`);
  };
  return {
    debug: (m, f) => verbose && line("debug", m, f),
    info: (m, f) => verbose && line("info", m, f),
    warn: (m, f) => line("warn", m, f),
    error: (m, f) => line("error", m, f),
  };
}
