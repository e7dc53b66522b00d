// kaireon-events publish <topic>: validate every input line first, then publish them all — so an
// invalid line never leaves half of a file sent.

import { createEvent, type DomainEvent, readCoreConfig, safeParseEvent, type TopicName, ValidationError } from "@kaireon/events-core";
import { parseCommandArgs, parseTopic } from "../cli-args.js";
import { openPublisher } from "../cli-backend.js";
import { stderrLogger, withEnvFile } from "../cli-env.js";
import { CliFailure, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "../cli-errors.js";
import { type InputItem, type InputProblem, readInputText, splitInput } from "../cli-input.js";
import { type CliIo, painter, writeLine } from "../cli-io.js";

export const publishHelp = `Usage: kaireon-events publish <topic> [--file <file>] [--env-file <file>]

Reads event payloads (the topic's "data", or whole CloudEvents as tail --json prints them) from
stdin or --file: one JSON value, a JSON array, or one JSON value per line (NDJSON).

Every line is validated against the topic's schema FIRST; when any line is invalid, each problem is
printed with its line number and field path, nothing at all is published, and the exit code is 2.
Only when every line is valid are the events published, in input order, in batches.
A whole CloudEvent keeps its id (consumers dedupe on it); a payload gets a new id.

Prints one line per event: its id and where the broker stored it (partition:offset, stream entry
id, sequence number) — JSON lines when stdout is not a terminal.

Options:
  --file, -f <file>   read from this file instead of stdin ("-" = stdin)
  --env-file <file>   variables from this file over the environment
  -h, --help          this help

Examples:
  echo '{"tenantId":"t1","customerId":"c1",…}' | kaireon-events publish interaction.recorded.v1
  kaireon-events publish decision.made.v1 --file decisions.ndjson
  kaireon-events tail --json --count 10 > ten.ndjson && kaireon-events publish interaction.recorded.v1 -f ten.ndjson`;

const BATCH = 500;

function validate(topic: TopicName, item: InputItem, source: string): DomainEvent | InputProblem[] {
  const value = item.value;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return [{ where: item.where, message: "(root): must be a JSON object" }];
  if ("specversion" in value) {
    const parsed = safeParseEvent(value);
    if (!parsed.ok) return parsed.error.issues.map((i) => ({ where: item.where, message: `${i.path || "(root)"}: ${i.message}` }));
    if (parsed.event.type !== topic)
      return [{ where: item.where, message: `type: is ${parsed.event.type}, not ${topic} — publish it to its own topic` }];
    return parsed.event;
  }
  try {
    return createEvent(topic, value as never, { source }) as DomainEvent;
  } catch (error) {
    if (error instanceof ValidationError || ValidationError.isInstance(error)) {
      return (error as ValidationError).issues.map((i) => ({ where: item.where, message: `${i.path || "(root)"}: ${i.message}` }));
    }
    throw error;
  }
}

export async function runPublish(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("publish", args, {
    file: { type: "string", short: "f" },
    "env-file": { type: "string" },
  });
  if (values.help) {
    writeLine(io.stdout, publishHelp);
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError("publish: give exactly one topic — kaireon-events publish <topic> [--file F]");
  const topic = parseTopic(positionals[0] as string);
  const env = withEnvFile(io.env, values["env-file"], io.cwd);
  const { source } = readCoreConfig(env);

  const items = splitInput(await readInputText(io, values.file));
  const problems: InputProblem[] = [];
  const events: { where: string; event: DomainEvent }[] = [];
  for (const item of items) {
    if (item.problem !== undefined) {
      problems.push({ where: item.where, message: item.problem });
      continue;
    }
    const result = validate(topic, item, source);
    if (Array.isArray(result)) problems.push(...result);
    else events.push({ where: item.where, event: result });
  }
  const err = painter(io.stderr, io.env);
  if (problems.length > 0) {
    for (const p of problems) writeLine(io.stderr, `${err.paint("red", p.where)}: ${p.message}`);
    writeLine(io.stderr, `VALIDATION_FAILED: ${problems.length} problem(s) in the input — nothing was published`);
    return EXIT_USAGE;
  }

  const publisher = await openPublisher(env, stderrLogger(io.stderr), io.cwd);
  const out = painter(io.stdout, io.env);
  let failed = 0;
  try {
    const report = await publisher.ready();
    if (report.disabled)
      throw new CliFailure(
        `${publisher.backend} stream is disabled: ${report.detail ?? "the backend is not configured"}`,
        "STREAM_DISABLED",
      );
    for (let i = 0; i < events.length; i += BATCH) {
      const chunk = events.slice(i, i + BATCH);
      const results = await publisher.publishBatch(chunk.map((e) => e.event));
      results.forEach((result, j) => {
        const { where, event } = chunk[j] as (typeof chunk)[number];
        if (result.status === "rejected") {
          failed++;
          const e = result.reason as { code?: string; message?: string };
          writeLine(
            io.stderr,
            `${err.paint("red", where)}: ${e?.code ?? "PUBLISH_FAILED"}: ${e?.message ?? String(result.reason)} (id ${event.id})`,
          );
          return;
        }
        const r = result.value;
        if (!io.stdout.isTTY) {
          writeLine(
            io.stdout,
            JSON.stringify({
              line: where,
              id: r.id,
              type: r.type,
              backend: r.backend,
              status: r.status,
              position: r.position,
              receivers: r.receivers,
            }),
          );
          return;
        }
        const at = r.position === undefined ? "" : ` at ${r.position}`;
        const who =
          r.receivers === undefined
            ? ""
            : r.receivers === 0
              ? out.paint("yellow", " — nobody was subscribed (pub/sub keeps nothing)")
              : ` → ${r.receivers} subscriber(s)`;
        writeLine(io.stdout, `${out.paint("dim", where.padEnd(9))} ${out.paint("green", r.status)} ${r.id}${at}${who}`);
      });
    }
    await publisher.flush();
  } finally {
    await publisher.close();
  }
  if (failed > 0) {
    writeLine(io.stderr, `PUBLISH_FAILED: ${failed} of ${events.length} event(s) were not published (listed above)`);
    return EXIT_FAILURE;
  }
  if (io.stderr.isTTY) writeLine(io.stderr, err.paint("dim", `${events.length} event(s) published to ${topic} on ${publisher.backend}`));
  return EXIT_OK;
}
