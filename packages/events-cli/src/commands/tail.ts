// kaireon-events tail: subscribe with a group of its own and print what arrives — NDJSON for
// programs, one readable line per event for people. A malformed message is reported, never fatal.

import { type DomainEvent, readCoreConfig, type SubscriptionError, serializeEvent, type TopicName } from "@kaireon/events-core";
import { parseCommandArgs, parseCount, parseFrom, parseTime, parseTopics } from "../cli-args.js";
import { backendLabel, dropOwnRedisGroup, openSubscriber, uniqueGroup } from "../cli-backend.js";
import { stderrLogger, withEnvFile } from "../cli-env.js";
import { EXIT_OK } from "../cli-errors.js";
import { eventLine, rate } from "../cli-format.js";
import { type CliIo, painter, writeLine } from "../cli-io.js";

export const tailHelp = `Usage: kaireon-events tail [topic…] [options]

Subscribes to the topics (default: all) on the backend EVENT_PUBLISHER selects and prints each event:
one readable line on a terminal (time in UTC, type, tenant, customer, what happened, id), the full CloudEvent
as one JSON line (NDJSON) when stdout is not a terminal or with --json. On a terminal a status line
with counts and rate is kept on stderr. Malformed messages go to stderr with where they were read;
the tail goes on.

Options:
  --from <where>      latest (default) | earliest | an RFC 3339 time — earliest and a time need a
                      backend that keeps history (Kafka, MSK, Kinesis, REDIS_MODE=streams)
  --until <time>      stop at this RFC 3339 time; later events are not printed. With --from and an
                      --until already past, it stops once nothing arrived for 3 s
  --count, -n <N>     stop after N events (after filters)
  --tenant <id>       only this tenant (repeatable)
  --customer <id>     only this customer (repeatable)
  --type <t>          only interactions of this type: impression, click, … (repeatable)
  --group <name>      consumer group (default: a new one per tail, so a tail never takes messages
                      from your application's groups; --from applies only to a group with no
                      position yet). EventBridge has no groups: tail reads
                      EVENTBRIDGE_QUEUE_URL, and what it reads is gone for other readers of that queue
  --json              the full CloudEvent per line, also on a terminal
  --quiet, -q         no "tail: listening …" line and no summary on stderr
  --env-file <file>   variables from this file over the environment
  -h, --help          this help

Examples:
  kaireon-events tail
  kaireon-events tail interaction.recorded.v1 --type click --tenant acme
  kaireon-events tail --from 2026-12-01T09:00:00Z --until 2026-12-01T10:00:00Z > hour.ndjson`;

const IDLE_MS = 3_000;

export async function runTail(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("tail", args, {
    from: { type: "string" },
    until: { type: "string" },
    count: { type: "string", short: "n" },
    tenant: { type: "string", multiple: true },
    customer: { type: "string", multiple: true },
    type: { type: "string", multiple: true },
    group: { type: "string" },
    json: { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
    "env-file": { type: "string" },
  });
  if (values.help) {
    writeLine(io.stdout, tailHelp);
    return EXIT_OK;
  }
  const topics: TopicName[] = parseTopics(positionals);
  const from = parseFrom("--from", values.from);
  const until = values.until === undefined ? undefined : parseTime("--until", values.until);
  const count = parseCount("--count", values.count);
  const tenants = values.tenant === undefined ? undefined : new Set(values.tenant);
  const customers = values.customer === undefined ? undefined : new Set(values.customer);
  const types = values.type === undefined ? undefined : new Set(values.type);
  const env = withEnvFile(io.env, values["env-file"], io.cwd);
  readCoreConfig(env);

  const readable = io.stdout.isTTY === true && values.json !== true;
  const status = io.stderr.isTTY === true;
  const out = painter(io.stdout, io.env);
  const err = painter(io.stderr, io.env);
  const startedAt = Date.now();
  let shown = 0;
  let seen = 0;
  let malformed = 0;
  let statusShown = false;

  const clearStatus = () => {
    if (statusShown) io.stderr.write("\r\x1b[2K");
    statusShown = false;
  };
  const drawStatus = () => {
    if (!status) return;
    const parts = [`${shown} shown`, `${seen} received`, rate(seen, Date.now() - startedAt)];
    if (malformed > 0) parts.push(err.paint("yellow", `${malformed} malformed`));
    io.stderr.write(`\r\x1b[2K${err.paint("dim", parts.join(" · "))}`);
    statusShown = true;
  };
  const toStderr = (line: string) => {
    clearStatus();
    writeLine(io.stderr, line);
    drawStatus();
  };

  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const onAbort = () => finish();
  io.signal.addEventListener("abort", onAbort, { once: true });
  // `head` closed the pipe: stop like a finished tail rather than crash on EPIPE.
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") finish();
  };
  io.stdout.on("error", onStdoutError);

  const keep = (event: DomainEvent): boolean => {
    if (tenants && !tenants.has(event.tenantid)) return false;
    if (customers && !customers.has(event.subject)) return false;
    if (types && (event.type !== "interaction.recorded.v1" || !types.has(event.data.interactionType))) return false;
    return true;
  };

  let idle: (() => void) | undefined;
  const handler = (event: DomainEvent) => {
    if (count !== undefined && shown >= count) return;
    seen++;
    idle?.();
    if (until && Date.parse(event.time) > until.getTime()) return;
    if (!keep(event)) return void drawStatus();
    shown++;
    clearStatus();
    writeLine(io.stdout, readable ? eventLine(event, out) : serializeEvent(event));
    drawStatus();
    if (count !== undefined && shown >= count) finish();
  };

  const onError = (failure: SubscriptionError) => {
    const where = [failure.context?.source, failure.context?.position].filter(Boolean).join(" at ");
    const e = failure.error;
    if (["MALFORMED_MESSAGE", "VALIDATION_FAILED", "UNKNOWN_TOPIC"].includes(e.code)) malformed++;
    const raw =
      failure.raw === undefined ? "" : ` raw=${JSON.stringify(failure.raw.length > 300 ? `${failure.raw.slice(0, 300)}…` : failure.raw)}`;
    toStderr(`${err.paint("yellow", e.code)}${where ? ` (${where})` : ""}: ${e.message}${raw}`);
  };

  const logger = stderrLogger({
    write: (s: string) => {
      toStderr(s.replace(/\n$/, ""));
      return true;
    },
  } as NodeJS.WritableStream);
  const subscriber = await openSubscriber(env, logger, io.cwd);
  const group = values.group ?? uniqueGroup("tail");
  if (readCoreConfig(env).backend === "eventbridge" && !values.quiet)
    toStderr(
      err.paint(
        "yellow",
        "EventBridge has no groups: tail receives and deletes from EVENTBRIDGE_QUEUE_URL — give it a queue of its own (a rule → queue) so no other reader loses messages",
      ),
    );
  let untilTimer: NodeJS.Timeout | undefined;
  let statusTimer: NodeJS.Timeout | undefined;
  try {
    const subscription = await subscriber.subscribe(topics, handler, { ...(from ? { from } : {}), group, onError, handlerAttempts: 1 });
    // Said once the subscription is live (events published from now on arrive), so scripts can wait for it.
    const label = backendLabel(env);
    // Redis pub/sub and EventBridge have no groups: naming one would suggest an isolation they lack.
    const grouped = label !== "redis pubsub" && label !== "eventbridge" ? ` (group ${group})` : "";
    if (!values.quiet) toStderr(err.paint("dim", `tail: listening to ${topics.join(", ")} on ${label}${grouped} — Ctrl-C to stop`));
    if (status) {
      statusTimer = setInterval(drawStatus, 1000);
      statusTimer.unref?.();
    }
    if (until) {
      const wait = until.getTime() - Date.now();
      // A live tail stops at the clock. An --until already past reads history: it stops once nothing
      // has arrived for IDLE_MS (partitions and shards deliver in their own order, so the first event
      // after --until does not mean every earlier one was read).
      if (wait > 0) untilTimer = setTimeout(finish, wait);
      else if (from === undefined) finish();
      else {
        idle = () => {
          clearTimeout(untilTimer);
          untilTimer = setTimeout(finish, IDLE_MS);
        };
        idle();
      }
    }
    if (io.signal.aborted) finish();
    await done;
    await subscription.close();
  } finally {
    clearTimeout(untilTimer);
    clearInterval(statusTimer);
    io.signal.removeEventListener("abort", onAbort);
    await subscriber.close();
    if (values.group === undefined && backendLabel(env) === "redis streams") {
      const problem = await dropOwnRedisGroup(env, topics, group);
      if (problem) toStderr(err.paint("yellow", `tail: ${problem}`));
    }
    clearStatus();
    if (status && !values.quiet)
      writeLine(
        io.stderr,
        err.paint("dim", `${shown} shown, ${seen} received, ${malformed} malformed in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`),
      );
    io.stdout.off("error", onStdoutError);
  }
  return EXIT_OK;
}
