// The command table and the one place exit codes and error lines are decided.

import { readFileSync } from "node:fs";
import { describeError, EXIT_OK, EXIT_USAGE } from "./cli-errors.js";
import { type CliIo, writeLine } from "./cli-io.js";
import { checkHelp, runCheck } from "./commands/check.js";
import { outboxHelp, runOutbox } from "./commands/outbox.js";
import { publishHelp, runPublish } from "./commands/publish.js";
import { replayHelp, runReplay } from "./commands/replay.js";
import { runSchema, schemaHelp } from "./commands/schema.js";
import { runTail, tailHelp } from "./commands/tail.js";

type Command = { run: (args: string[], io: CliIo) => Promise<number>; help: string; summary: string };

const commands: Record<string, Command> = {
  tail: { run: runTail, help: tailHelp, summary: "print events as they arrive (or from a time), filtered" },
  publish: { run: runPublish, help: publishHelp, summary: "validate and publish payloads from stdin or a file" },
  check: { run: runCheck, help: checkHelp, summary: "can this environment publish? configuration, connection, what must exist" },
  schema: { run: runSchema, help: schemaHelp, summary: "print a topic's JSON Schema" },
  outbox: { run: runOutbox, help: outboxHelp, summary: "outbox backlog, dead rows, requeue (SQLite or PostgreSQL)" },
  replay: { run: runReplay, help: replayHelp, summary: "re-publish a time range to another environment, ids unchanged" },
};

export function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

export const mainHelp = `Usage: kaireon-events <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join("\n")}

The backend is the one EVENT_PUBLISHER selects, configured by the same variables as the application
(REDIS_URL, KAFKA_BROKERS, KINESIS_STREAM, EVENTBRIDGE_BUS, …); install its package beside this one.
Every command takes --help and --env-file <file>.

Exit codes: 0 ok · 1 failure (connection, broker, missing package) · 2 bad input (flags, invalid events)

Options:
  -h, --help      this help
  -V, --version   the version`;

/** Runs one command line; resolves with the exit code. Never throws. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === "-h" || first === "--help" || first === "help") {
      const topic = first === "help" ? rest[0] : undefined;
      writeLine(io.stdout, topic && commands[topic] ? (commands[topic] as Command).help : mainHelp);
      return first === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (first === "-V" || first === "--version") {
      writeLine(io.stdout, version());
      return EXIT_OK;
    }
    const command = commands[first];
    if (!command) {
      writeLine(io.stderr, `usage: "${first}" is not a command — one of: ${Object.keys(commands).join(", ")} (kaireon-events --help)`);
      return EXIT_USAGE;
    }
    return await command.run(rest, io);
  } catch (error) {
    const { text, exitCode } = describeError(error);
    writeLine(io.stderr, text);
    return exitCode;
  }
}
