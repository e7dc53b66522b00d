// kaireon-events replay: read a time range from a durable backend and publish it, ids unchanged, to
// the backend another environment selects. Consumers dedupe on the id, so a replay twice is harmless.

import { type DomainEvent, type Publisher, readCoreConfig, type SubscriptionError } from "@kaireon/events-core";
import { parseCommandArgs, parseCount, parseTime, parseTopics } from "../cli-args.js";
import { backendLabel, dropOwnRedisGroup, durableBackends, openPublisher, openSubscriber, uniqueGroup } from "../cli-backend.js";
import { stderrLogger, withEnvFile } from "../cli-env.js";
import { CliFailure, EXIT_FAILURE, EXIT_OK, UsageError } from "../cli-errors.js";
import { type CliIo, painter, writeLine } from "../cli-io.js";

export const replayHelp = `Usage: kaireon-events replay --from <time> [--to <time>] --target <env file> [topic…]

Reads every event stored from --from (an RFC 3339 time, or earliest) up to --to (default: the moment
the replay starts) on the backend of this environment, and publishes each to the backend the target
env file selects, with its id, time and data unchanged (publishEvent). Consumers dedupe on the id.

The source must keep history: Kafka, MSK, Kinesis, or Redis with REDIS_MODE=streams (not pub/sub,
not EventBridge). It reads with a consumer group of its own, so no application group is touched.
A stream has no "end": the replay stops once nothing has arrived for --idle seconds (default 5).
Events later than --to are read and skipped. Progress goes to stderr; the last line is the count.

The target environment is the env file's variables over the current environment (credentials from
the environment carry over); set every variable that differs, EVENT_PUBLISHER first.

Options:
  --from <time>        RFC 3339 time, or earliest (required)
  --to <time>          RFC 3339 time (default: now)
  --target <file>      env file of the environment to publish to (required)
  --idle <seconds>     stop after this long without an event (default 5)
  --env-file <file>    variables of the SOURCE from this file over the environment
  -h, --help           this help

Example:
  EVENT_PUBLISHER=kafka KAFKA_BROKERS=old:9092 kaireon-events replay --from 2026-11-30T00:00:00Z --target new.env`;

export async function runReplay(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("replay", args, {
    from: { type: "string" },
    to: { type: "string" },
    target: { type: "string" },
    idle: { type: "string" },
    "env-file": { type: "string" },
  });
  if (values.help) {
    writeLine(io.stdout, replayHelp);
    return EXIT_OK;
  }
  if (values.from === undefined) throw new UsageError("replay: --from <time> is required (an RFC 3339 time, or earliest)");
  if (values.target === undefined) throw new UsageError("replay: --target <env file> is required — the environment to publish to");
  const from = values.from === "earliest" ? "earliest" : parseTime("--from", values.from);
  const to = values.to === undefined ? new Date() : parseTime("--to", values.to);
  const idleMs = (parseCount("--idle", values.idle) ?? 5) * 1000;
  const topics = parseTopics(positionals);
  const sourceEnv = withEnvFile(io.env, values["env-file"], io.cwd);
  const targetEnv = withEnvFile(io.env, values.target, io.cwd);
  const source = backendLabel(sourceEnv);
  if (!durableBackends.includes(source))
    throw new CliFailure(
      `the source backend ${source} keeps no history to replay — replay reads Kafka, MSK, Kinesis or Redis Streams (REDIS_MODE=streams)`,
      "NOT_REPLAYABLE",
    );
  readCoreConfig(targetEnv);

  const err = painter(io.stderr, io.env);
  const logger = stderrLogger(io.stderr);
  let replayed = 0;
  let skipped = 0;
  let failed = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let idleTimer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(finish, idleMs);
  };
  const onAbort = () => finish();
  io.signal.addEventListener("abort", onAbort, { once: true });
  const progress = () => {
    if (io.stderr.isTTY) io.stderr.write(`\r\x1b[2K${err.paint("dim", `${replayed} replayed · ${skipped} after --to · ${failed} failed`)}`);
  };
  const progressTimer = setInterval(progress, 1000);
  progressTimer.unref?.();

  let group: string | undefined;
  const target: Publisher = await openPublisher(targetEnv, logger, io.cwd);
  const subscriber = await openSubscriber(sourceEnv, logger, io.cwd);
  try {
    const report = await target.ready();
    if (report.disabled)
      throw new CliFailure(`the target ${target.backend} stream is disabled: ${report.detail ?? "not configured"}`, "STREAM_DISABLED");
    const handler = async (event: DomainEvent) => {
      touch();
      if (Date.parse(event.time) > to.getTime()) return void skipped++;
      try {
        await target.publishEvent(event);
        replayed++;
        if (!io.stderr.isTTY && replayed % 1000 === 0) writeLine(io.stderr, `${replayed} replayed`);
      } catch (error) {
        failed++;
        const e = error as { code?: string; message?: string };
        writeLine(io.stderr, `${e.code ?? "PUBLISH_FAILED"}: event ${event.id}: ${e.message ?? String(error)}`);
      }
      touch();
    };
    const onError = (failure: SubscriptionError) => {
      const where = [failure.context?.source, failure.context?.position].filter(Boolean).join(" at ");
      writeLine(io.stderr, `${failure.error.code}${where ? ` (${where})` : ""}: ${failure.error.message} — not replayed`);
    };
    group = uniqueGroup("replay");
    const subscription = await subscriber.subscribe(topics, handler, { from, group, onError, handlerAttempts: 1 });
    writeLine(
      io.stderr,
      err.paint(
        "dim",
        `replay ${topics.join(", ")} from ${source} (${from === "earliest" ? "earliest" : from.toISOString()} … ${to.toISOString()}) to ${backendLabel(targetEnv)}`,
      ),
    );
    touch();
    await done;
    await subscription.close();
    await target.flush();
  } finally {
    clearTimeout(idleTimer);
    clearInterval(progressTimer);
    io.signal.removeEventListener("abort", onAbort);
    await subscriber.close();
    await target.close();
    if (group !== undefined && source === "redis streams") {
      const problem = await dropOwnRedisGroup(sourceEnv, topics, group);
      if (problem) writeLine(io.stderr, `replay: ${problem}`);
    }
  }
  if (io.stderr.isTTY) io.stderr.write("\r\x1b[2K");
  writeLine(io.stdout, `replayed ${replayed} event(s) to ${target.backend}; ${skipped} later than --to skipped; ${failed} failed`);
  return failed > 0 ? EXIT_FAILURE : EXIT_OK;
}
