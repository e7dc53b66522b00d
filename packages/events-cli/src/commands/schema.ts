// kaireon-events schema: the JSON Schemas checked in beside core (what `createEvent` validates).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { asyncApiDocument, topicNames } from "@kaireon/events-core";
import { parseCommandArgs, parseTopic } from "../cli-args.js";
import { EXIT_OK, UsageError } from "../cli-errors.js";
import { type CliIo, writeLine } from "../cli-io.js";

export const schemaHelp = `Usage: kaireon-events schema [topic] [--format json-schema|asyncapi]

Prints the JSON Schema (draft 2020-12) of a topic's event — the CloudEvent envelope with its "data"
payload — as shipped with @kaireon/events-core (@kaireon/events-core/schemas/<topic>.json).
Without a topic: one object with every topic's schema, keyed by topic.
--format asyncapi prints the AsyncAPI 3.0 document of every topic (channels per backend, the
envelope schemas), stamped with the installed core's version.

Options:
  --format <f>   json-schema (default) | asyncapi
  --list         print only the topic names, one per line
  -h, --help     this help

Examples:
  kaireon-events schema interaction.recorded.v1
  kaireon-events schema --list
  kaireon-events schema --format asyncapi > kaireon-events.asyncapi.json`;

const require = createRequire(import.meta.url);

export function readSchema(topic: string): unknown {
  const path = require.resolve(`@kaireon/events-core/schemas/${topic}.json`);
  return JSON.parse(readFileSync(path, "utf8")) as unknown;
}

function coreVersion(): string {
  return (JSON.parse(readFileSync(require.resolve("@kaireon/events-core/package.json"), "utf8")) as { version: string }).version;
}

export async function runSchema(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("schema", args, { format: { type: "string" }, list: { type: "boolean" } });
  if (values.help) {
    writeLine(io.stdout, schemaHelp);
    return EXIT_OK;
  }
  const format = values.format ?? "json-schema";
  if (format !== "json-schema" && format !== "asyncapi")
    throw new UsageError(`schema: --format "${format}" is not a format — use json-schema or asyncapi`);
  if (positionals.length > 1) throw new UsageError("schema: give at most one topic");
  if (format === "asyncapi") {
    if (positionals.length > 0) throw new UsageError("schema --format asyncapi: the document covers every topic — leave the topic out");
    writeLine(io.stdout, JSON.stringify(asyncApiDocument({ version: coreVersion() }), null, 2));
    return EXIT_OK;
  }
  if (values.list) {
    for (const t of topicNames) writeLine(io.stdout, t);
    return EXIT_OK;
  }
  const topic = positionals[0];
  const doc = topic === undefined ? Object.fromEntries(topicNames.map((t) => [t, readSchema(t)])) : readSchema(parseTopic(topic));
  writeLine(io.stdout, JSON.stringify(doc, null, 2));
  return EXIT_OK;
}
