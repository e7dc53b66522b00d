// Argument parsing on node:util parseArgs, with errors that say which command and flag was wrong.

import { type ParseArgsConfig, parseArgs } from "node:util";
import { isTopicName, type TopicName, topicNames } from "@kaireon/events-core";
import { UsageError } from "./cli-errors.js";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

type WithHelp<O extends OptionSpec> = O & { help: { type: "boolean"; short: "h" } };
export type ParsedArgs<O extends OptionSpec> = ReturnType<
  typeof parseArgs<{ args: string[]; options: WithHelp<O>; allowPositionals: true; strict: true }>
>;

export function parseCommandArgs<O extends OptionSpec>(command: string, args: string[], options: O): ParsedArgs<O> {
  try {
    const all = { help: { type: "boolean", short: "h" }, ...options } as WithHelp<O>;
    return parseArgs({ args, options: all, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(`${command}: ${message} — see kaireon-events ${command} --help`);
  }
}

/** `latest`, `earliest` or an RFC 3339 time. */
export function parseFrom(flag: string, value: string | undefined): "latest" | "earliest" | Date | undefined {
  if (value === undefined) return undefined;
  if (value === "latest" || value === "earliest") return value;
  return parseTime(flag, value);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseTime(flag: string, value: string): Date {
  const ms = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${flag} "${value}" is not an RFC 3339 time — e.g. 2026-12-01T09:00:00Z`);
  return new Date(ms);
}

export function parseCount(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} "${value}" must be a whole number ≥ 1`);
  return n;
}

export function parseTopic(value: string): TopicName {
  if (!isTopicName(value)) throw new UsageError(`unknown topic "${value}" — use one of: ${topicNames.join(", ")}`);
  return value;
}

export function parseTopics(values: readonly string[]): TopicName[] {
  return values.length === 0 ? [...topicNames] : [...new Set(values.map(parseTopic))];
}
