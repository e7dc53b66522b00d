// The env helpers every backend's options are read with: environment → zod schema → options, with
// errors that name the variable and say the fix. Kept apart from config.ts (which knows the backend
// registry and so, through its importers, every backend) so the backend kit can use them without
// an import cycle.

import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "./errors.js";

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses `env` with a backend's schema. Each issue becomes one line naming the variable; the
 * values themselves are never echoed (they may be secrets).
 */
export function parseEnv<S extends z.ZodType>(backend: string, schema: S, env: Env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const variable = issue.path.map(String).join(".") || "(environment)";
    return `${variable}: ${issue.message}`;
  });
  throw new ConfigError({
    backend,
    message: `[${backend}] invalid configuration — ${lines.join("; ")}`,
    details: { variables: result.error.issues.map((i) => i.path.map(String).join(".")) },
  });
}

// Helpers for env schemas, so every backend reads booleans, numbers and lists the same way.

/** `true`/`false`/`1`/`0`/`yes`/`no` (any case); unset → `fallback`. */
export function envBoolean(fallback: boolean) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return fallback;
      const v = value.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(v)) return true;
      if (["false", "0", "no", "off"].includes(v)) return false;
      ctx.addIssue({ code: "custom", message: "must be true or false" });
      return z.NEVER;
    });
}

/** A whole number within [min, max]; unset → `fallback`. */
export function envInt(fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return fallback;
      const n = Number(value.trim());
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `must be a whole number between ${min} and ${max}` });
        return z.NEVER;
      }
      return n;
    });
}

/** A comma-separated list; blanks dropped. `required` makes an unset or empty list an error with `hint`. */
export function envList(options: { required: true; hint: string } | { required?: false }) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      const items = (value ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (items.length === 0 && options.required) {
        ctx.addIssue({ code: "custom", message: `is required — ${options.hint}` });
        return z.NEVER;
      }
      return items;
    });
}

/** An optional non-empty string; blank counts as unset. */
export function envString() {
  return z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));
}

/**
 * Reads a file a variable points at (a CA bundle, say). A missing or unreadable file is a
 * ConfigError naming the variable, the path and `fix`.
 */
export function readConfigFile(path: string, where: { backend: string; variable: string; fix: string }): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError({
      backend: where.backend,
      message: `[${where.backend}] ${where.variable}: cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"}) — ${where.fix}`,
      details: { variable: where.variable },
      cause,
    });
  }
}
