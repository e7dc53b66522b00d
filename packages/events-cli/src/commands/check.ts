// kaireon-events check: is this environment able to publish? Parses the variables the way the
// application would, prints what they resolve to (secrets masked), connects, and checks what must
// exist where the backend can tell. Exit 0 only when publishing would work; what it cannot check is said.

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import {
  backendPackages,
  type Env,
  EventsError,
  loadBackend,
  type Publisher,
  type ReadinessReport,
  readCoreConfig,
  redactSecrets,
  silentLogger,
  topicNames,
  urlSecrets,
} from "@kaireon/events-core";
import { parseCommandArgs, parseCount } from "../cli-args.js";
import { maskOptions, relevantEnv, withEnvFile } from "../cli-env.js";
import { EXIT_FAILURE, EXIT_OK } from "../cli-errors.js";
import { type CliIo, painter, writeLine } from "../cli-io.js";

export const checkHelp = `Usage: kaireon-events check [--env-file <file>] [--timeout <ms>] [--json]

Checks that the environment can publish, the way the application reads it:
  1. EVENT_PUBLISHER and the backend's variables parse (the same schema the application uses);
  2. the resolved configuration is printed, every secret masked;
  3. the backend package is installed, the publisher connects (its ready() check);
  4. what must exist, where the backend can tell: Kafka/MSK topics, the Kinesis stream, the
     EventBridge bus, and EVENTBRIDGE_QUEUE_URL when set (needed by subscribers and tail).
Each problem is printed with its fix. What cannot be checked (permissions to write, say) is listed.
Exit code 0 only when publishing would work, 1 otherwise.

Options:
  --timeout <ms>      how long to wait for the connection (default 10000)
  --json              the report as one JSON object
  --env-file <file>   variables from this file over the environment
  -h, --help          this help`;

interface Check {
  ok: boolean;
  what: string;
  detail?: string;
  fix?: string;
}

interface CheckReport {
  backend?: string;
  requested?: string;
  source?: string;
  environment: Record<string, string>;
  options?: unknown;
  checks: Check[];
  notChecked: string[];
  ok: boolean;
}

const notCheckable: Record<string, string[]> = {
  redis: [
    "whether the user may PUBLISH/XADD (Redis ACLs are not queried; a refused command fails the publish)",
    "pub/sub: whether anyone is subscribed — an event nobody receives is gone (publish prints receivers)",
  ],
  kafka: ["whether the user may write to the topics (Kafka ACLs are not queried)"],
  msk: ["whether the IAM role or SCRAM user may write to the topics (not queried)"],
  kinesis: ["whether the credentials allow kinesis:PutRecords (only DescribeStreamSummary is tried)"],
  eventbridge: [
    "whether the credentials allow events:PutEvents (only DescribeEventBus is tried)",
    "whether a rule routes the events anywhere (rules and targets are not listed)",
  ],
};

async function pollReady(publisher: Publisher, timeoutMs: number): Promise<ReadinessReport> {
  const deadline = Date.now() + timeoutMs;
  let report = await publisher.ready();
  // Redis connects in the background: ready() says "connecting" until it has; ask again until the bound.
  while (!report.ready && !report.disabled && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    report = await publisher.ready();
  }
  return report;
}

/** Kafka/MSK: which of the registry's topics do not exist. */
async function missingKafkaTopics(publisher: Publisher, prefix: string): Promise<string[] | undefined> {
  // The kafka package has no public "list topics" yet; its publisher keeps the admin client ready()
  // connected (with the same SASL/TLS). Used only when it has that shape; otherwise "not checked".
  const admin = (publisher as unknown as { admin?: { listTopics?: () => Promise<string[]> } }).admin;
  if (typeof admin?.listTopics !== "function") return undefined;
  const existing = new Set(await admin.listTopics());
  return topicNames.map((t) => prefix + t).filter((name) => !existing.has(name));
}

/** EventBridge: does EVENTBRIDGE_QUEUE_URL exist? With the SQS client the eventbridge package itself uses. */
async function checkQueue(options: {
  queueUrl: string | undefined;
  region: string | undefined;
  sqsEndpoint: string | undefined;
}): Promise<Check | undefined> {
  if (!options.queueUrl) return undefined;
  const mod = (await import("@kaireon/events-eventbridge")) as typeof import("@kaireon/events-eventbridge");
  const beside = createRequire(import.meta.resolve("@kaireon/events-eventbridge"));
  const sqs = (await import(pathToFileURL(beside.resolve("@aws-sdk/client-sqs")).href)) as typeof import("@aws-sdk/client-sqs");
  const client = new sqs.SQSClient(mod.sqsClientConfig({ ...options, requestTimeoutMs: 5_000 }));
  try {
    await client.send(new sqs.GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ["QueueArn"] }));
    return { ok: true, what: "EVENTBRIDGE_QUEUE_URL exists (subscribers and tail read it)" };
  } catch (error) {
    const name = (error as Error).name;
    return {
      ok: false,
      what: "EVENTBRIDGE_QUEUE_URL",
      detail: `${name}: ${(error as Error).message}`,
      fix:
        name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue"
          ? "the queue does not exist — create it and a rule targeting it (ensureRuleToQueue), or fix EVENTBRIDGE_QUEUE_URL"
          : "check EVENTBRIDGE_QUEUE_URL, the region and the credentials (sqs:GetQueueAttributes)",
    };
  } finally {
    client.destroy();
  }
}

function fixFor(backend: string, detail: string): string {
  const d = detail.toLowerCase();
  if (/wrongpass|noauth|auth|sasl|password|credentials|security token|signature/.test(d))
    return backend === "redis"
      ? "the credentials were refused — check the password in REDIS_URL (redis://:<password>@host:port)"
      : backend === "kafka" || backend === "msk"
        ? "the credentials were refused — check KAFKA_SASL_MECHANISM / KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD (MSK: the IAM role or MSK_* variables)"
        : "the credentials were refused — check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE and the region";
  if (/not found|does not exist|resourcenotfound|notfound/.test(d))
    return backend === "kinesis"
      ? "the stream does not exist — create it (aws kinesis create-stream) or fix KINESIS_STREAM"
      : "the bus does not exist — create it or fix EVENTBRIDGE_BUS";
  if (/econnrefused|timeout|timed out|no answer|enotfound|connect|unreachable|getaddrinfo/.test(d)) {
    const variable = {
      redis: "REDIS_URL",
      kafka: "KAFKA_BROKERS",
      msk: "MSK_BROKERS",
      kinesis: "KINESIS_ENDPOINT_URL / AWS_ENDPOINT_URL / AWS_REGION",
      eventbridge: "EVENTBRIDGE_ENDPOINT_URL / AWS_ENDPOINT_URL / AWS_REGION",
    }[backend];
    return `the server could not be reached — check ${variable ?? "the address"}, that it is running, and the network (TLS, firewall, security group)`;
  }
  return "see the detail above";
}

async function runChecks(env: Env, timeoutMs: number, cwd: string): Promise<CheckReport> {
  const report: CheckReport = { environment: Object.fromEntries(relevantEnv(env)), checks: [], notChecked: [], ok: false };
  const fail = (what: string, detail: string, fix?: string) => report.checks.push({ ok: false, what, detail, ...(fix ? { fix } : {}) });
  let config: ReturnType<typeof readCoreConfig>;
  try {
    config = readCoreConfig(env);
  } catch (error) {
    fail("EVENT_PUBLISHER", (error as Error).message);
    return report;
  }
  Object.assign(report, { backend: config.backend, requested: config.requested, source: config.source });
  if (config.backend === "memory") {
    report.checks.push({ ok: true, what: "in-memory backend: events stay in this process" });
    report.notChecked.push("nothing leaves the process with EVENT_PUBLISHER=memory; no other process can read these events");
    report.ok = true;
    return report;
  }
  let descriptor: Awaited<ReturnType<typeof loadBackend>>;
  try {
    descriptor = await loadBackend(config.backend, { resolveFrom: `${cwd}/` });
    report.checks.push({ ok: true, what: `${backendPackages[config.backend]} is installed` });
  } catch (error) {
    fail("backend package", (error as Error).message);
    return report;
  }
  let options: unknown;
  try {
    options = descriptor.fromEnv(env);
  } catch (error) {
    fail("configuration", (error as Error).message, "set the variables named above (see the backend package's README)");
    return report;
  }
  if (options === undefined) {
    fail(
      "configuration",
      `the ${config.backend} stream is disabled: ${descriptor.disabledReason ?? "the backend is not configured"}`,
      "an application with this environment accepts events and sends nothing",
    );
    return report;
  }
  report.options = maskOptions(options);
  report.checks.push({ ok: true, what: "configuration parsed" });

  const secrets = Object.entries(env).flatMap(([k, v]) =>
    v && /PASSWORD|SECRET|TOKEN|KEY/i.test(k) ? [v] : urlSecrets(v && /:\/\//.test(v) ? v : undefined),
  );
  const clean = (text: string) => redactSecrets(text, secrets);
  const publisher = descriptor.createPublisher(options, { source: config.source, logger: silentLogger, requested: config.requested });
  try {
    const ready = await pollReady(publisher, timeoutMs);
    if (!ready.ready) {
      const detail = clean(ready.detail ?? "not ready");
      fail(`connect to ${config.backend}`, detail, fixFor(config.backend, detail));
    } else {
      report.checks.push({ ok: true, what: `connected to ${config.backend}`, ...(ready.detail ? { detail: clean(ready.detail) } : {}) });
      if (config.backend === "kafka" || config.backend === "msk") {
        const prefix = (options as { topicPrefix?: string }).topicPrefix ?? "";
        const missing = await missingKafkaTopics(publisher, prefix).catch((error: unknown) => {
          fail("list topics", clean((error as Error).message), "the user may not be allowed to describe topics; publishing may still work");
          return [] as string[];
        });
        if (missing === undefined)
          report.notChecked.push("whether the topics exist (this version of the kafka package does not offer a topic listing)");
        else if (missing.length > 0)
          fail(
            "topics",
            `missing: ${missing.join(", ")}`,
            "create them with ensureTopics() from @kaireon/events-kafka, or your deploy step (kafka-topics.sh --create); a broker with auto-creation would create them with its defaults",
          );
        else report.checks.push({ ok: true, what: `topics exist: ${topicNames.map((t) => prefix + t).join(", ")}` });
      }
      if (config.backend === "kinesis") report.checks.push({ ok: true, what: "the stream exists and is ACTIVE" });
      if (config.backend === "eventbridge" && !/not allowed/.test(ready.detail ?? ""))
        report.checks.push({ ok: true, what: "the event bus exists" });
    }
    if (config.backend === "eventbridge") {
      const queue = await checkQueue(options as Parameters<typeof checkQueue>[0]).catch((error: unknown) => ({
        ok: false,
        what: "EVENTBRIDGE_QUEUE_URL",
        detail: clean(EventsError.isInstance(error) ? error.message : String((error as Error).message)),
      }));
      if (queue) report.checks.push(queue);
      else report.notChecked.push("EVENTBRIDGE_QUEUE_URL is not set: subscribers and tail need it (publishing does not)");
    }
  } finally {
    await publisher.close().catch(() => {});
  }
  report.notChecked.push(...(notCheckable[config.backend] ?? []));
  report.ok = report.checks.every((c) => c.ok);
  return report;
}

export async function runCheck(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs("check", args, {
    timeout: { type: "string" },
    json: { type: "boolean" },
    "env-file": { type: "string" },
  });
  if (values.help) {
    writeLine(io.stdout, checkHelp);
    return EXIT_OK;
  }
  const timeoutMs = parseCount("--timeout", values.timeout) ?? 10_000;
  const env = withEnvFile(io.env, values["env-file"], io.cwd);
  const report = await runChecks(env, timeoutMs, io.cwd);
  if (values.json) {
    writeLine(io.stdout, JSON.stringify(report));
    return report.ok ? EXIT_OK : EXIT_FAILURE;
  }
  const p = painter(io.stdout, io.env);
  if (report.backend)
    writeLine(
      io.stdout,
      `${p.paint("bold", "backend")}  ${report.backend}${report.requested !== report.backend ? ` (EVENT_PUBLISHER=${report.requested})` : ""}  source ${report.source}`,
    );
  writeLine(io.stdout, p.paint("bold", "environment"));
  const vars = Object.entries(report.environment);
  if (vars.length === 0) writeLine(io.stdout, "  (no EVENT_*, REDIS_*, KAFKA_*, MSK_*, KINESIS_*, EVENTBRIDGE_* or AWS_* variable is set)");
  for (const [k, v] of vars) writeLine(io.stdout, `  ${k}=${v}`);
  if (report.options !== undefined) {
    writeLine(io.stdout, p.paint("bold", "resolved options"));
    for (const line of JSON.stringify(report.options, null, 2).split("\n")) writeLine(io.stdout, `  ${line}`);
  }
  writeLine(io.stdout, p.paint("bold", "checks"));
  for (const c of report.checks) {
    const mark = c.ok ? p.paint("green", "ok  ") : p.paint("red", "FAIL");
    writeLine(io.stdout, `  ${mark} ${c.what}${c.detail ? `: ${c.detail}` : ""}`);
    if (c.fix) writeLine(io.stdout, `       fix: ${c.fix}`);
  }
  if (report.notChecked.length > 0) {
    writeLine(io.stdout, p.paint("bold", "not checked"));
    for (const n of report.notChecked) writeLine(io.stdout, `  - ${n}`);
  }
  const problems = report.checks.filter((c) => !c.ok).length;
  writeLine(
    io.stdout,
    report.ok ? p.paint("green", "publishing would work") : p.paint("red", `publishing would NOT work: ${problems} problem(s)`),
  );
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}
