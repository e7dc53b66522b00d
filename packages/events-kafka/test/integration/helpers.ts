// Options for each listener of the broker tooling/services/kafka.sh starts (PLAINTEXT, SASL PLAIN,
// SASL SCRAM-SHA-512, TLS, SASL_SSL with SCRAM-SHA-512 as MSK runs it), and a raw kafkajs producer for writing what our publisher never would.

import { execFile } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { promisify } from "node:util";
import { silentLogger } from "@kaireon/events-core";
import { requireService, uniqueName } from "@kaireon/events-testkit";
import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import { ensureTopics, type KafkaClientName, type KafkaOptions, kafkaClients, resolveKafkaOptions } from "../../src/index.js";
import { stopKafkajsIdlePolling } from "../../src/kafka-kafkajs-idle-poll.js";

export type Listener = "plaintext" | "sasl-plain" | "sasl-scram-sha-512" | "tls" | "sasl-ssl-scram-sha-512";

/**
 * The clients the integration files run with: both, or those KAFKA_TEST_CLIENTS names
 * (`KAFKA_TEST_CLIENTS=platformatic` while working on one).
 */
export function testClients(): KafkaClientName[] {
  const wanted = (process.env.KAFKA_TEST_CLIENTS ?? "")
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
  if (wanted.length === 0) return [...kafkaClients];
  for (const c of wanted)
    if (!(kafkaClients as readonly string[]).includes(c))
      throw new Error(`KAFKA_TEST_CLIENTS: ${c} is not one of ${kafkaClients.join(", ")}`);
  return wanted as KafkaClientName[];
}

const allListeners: Listener[] = ["plaintext", "sasl-plain", "sasl-scram-sha-512", "tls", "sasl-ssl-scram-sha-512"];

/**
 * The listeners besides PLAINTEXT that the listener smokes and wrong-password cases run on: all, or
 * those KAFKA_TEST_LISTENERS names.
 */
export function testListeners(): Listener[] {
  const others = allListeners.filter((l) => l !== "plaintext");
  return listed("KAFKA_TEST_LISTENERS", others, []) ?? others;
}

/** The listeners the variable `name` lists, in `allowed`'s order (`extra` words pass the check); undefined when unset. */
function listed(name: string, allowed: readonly Listener[], extra: readonly string[]): Listener[] | undefined {
  const wanted = (process.env[name] ?? "")
    .split(",")
    .map((l) => l.trim())
    .filter(Boolean);
  if (wanted.length === 0) return undefined;
  for (const l of wanted)
    if (!(allowed as readonly string[]).includes(l) && !extra.includes(l))
      throw new Error(`${name}: ${l} is not one of ${[...extra, ...allowed].join(", ")}`);
  if (extra.some((word) => wanted.includes(word))) return [...allowed];
  return allowed.filter((l) => wanted.includes(l));
}

/**
 * The listeners the whole conformance suite and the ordering, replay and broker-kill files run on:
 * PLAINTEXT, or KAFKA_TEST_FULL_LISTENERS (`all`, or a list) for a full run on each — CI keeps
 * PLAINTEXT plus a smoke per other listener.
 */
export function fullListeners(): Listener[] {
  return listed("KAFKA_TEST_FULL_LISTENERS", allListeners, ["all"]) ?? ["plaintext"];
}

/** A describe block's name for a client on a listener of fullListeners(): PLAINTEXT unnamed, as before the others. */
export const clientOn = (client: string, listener: Listener): string => `client ${client}${listener === "plaintext" ? "" : ` ${listener}`}`;

function need(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run through tooling/with-services.sh (KAIREON_SERVICES=kafka), which starts all listeners`);
  return value;
}

export async function brokerOptions(listener: Listener, topicPrefix: string, extra: Partial<KafkaOptions> = {}): Promise<KafkaOptions> {
  const plaintext = await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  const base = { topicPrefix, clientId: `kaireon-test-${listener}-${extra.client ?? "default"}`, ...extra };
  switch (listener) {
    case "plaintext":
      return resolveKafkaOptions({ brokers: plaintext.split(","), ...base });
    case "sasl-plain":
      return resolveKafkaOptions({
        brokers: need("KAFKA_TEST_SASL_BROKERS").split(","),
        sasl: { mechanism: "plain", username: need("KAFKA_TEST_PLAIN_USERNAME"), password: need("KAFKA_TEST_PLAIN_PASSWORD") },
        ...base,
      });
    case "sasl-scram-sha-512":
      return resolveKafkaOptions({
        brokers: need("KAFKA_TEST_SASL_BROKERS").split(","),
        sasl: { mechanism: "scram-sha-512", username: need("KAFKA_TEST_SCRAM_USERNAME"), password: need("KAFKA_TEST_SCRAM_PASSWORD") },
        ...base,
      });
    case "tls":
      return resolveKafkaOptions({
        brokers: need("KAFKA_TEST_TLS_BROKERS").split(","),
        ssl: { ca: [readFileSync(need("KAFKA_TEST_TLS_CA_FILE"), "utf8")] },
        ...base,
      });
    case "sasl-ssl-scram-sha-512":
      return resolveKafkaOptions({
        brokers: need("KAFKA_TEST_SASL_TLS_BROKERS").split(","),
        ssl: { ca: [readFileSync(need("KAFKA_TEST_TLS_CA_FILE"), "utf8")] },
        sasl: { mechanism: "scram-sha-512", username: need("KAFKA_TEST_SCRAM_USERNAME"), password: need("KAFKA_TEST_SCRAM_PASSWORD") },
        ...base,
      });
  }
}

/** A topic prefix no other test file or run uses. */
export function uniquePrefix(name: string): string {
  return `${uniqueName(`test-${name}`)}.`;
}

export async function prepareTopics(options: KafkaOptions, partitions = 3): Promise<void> {
  await ensureTopics(options, { partitions, replicationFactor: 1, logger: silentLogger });
}

// kafkajs warns once per process when it re-arms its idle 1 ms poll (a negative delay, see
// src/kafka-kafkajs-idle-poll.ts). The package stops that poll when its kafkajs client is first made;
// a file whose publishers run on platformatic and that reads with plain kafkajs never made one, so
// its plain clients printed the warning (kafka-close). They stop the poll the same way, and the
// files check that nothing printed it.
const negativeTimeouts: string[] = [];
process.on("warning", (warning) => {
  if (warning.name === "TimeoutNegativeWarning") negativeTimeouts.push(`${warning.message}\n${warning.stack ?? ""}`);
});
/** The TimeoutNegativeWarnings this process printed so far (Node prints the first only). */
export function timeoutNegativeWarnings(): string[] {
  return [...negativeTimeouts];
}

/** A plain kafkajs client for reading or writing beside our clients, without kafkajs' idle polling. */
export function plainKafka(config: Omit<KafkaConfig, "logLevel">): Kafka {
  stopKafkajsIdlePolling();
  return new Kafka({ ...config, logLevel: logLevel.NOTHING });
}

/** Writes raw bytes with plain kafkajs, bypassing the publisher (for malformed-record tests), over the options' listener. */
export function rawWriter(options: KafkaOptions) {
  const kafka = plainKafka({
    brokers: options.brokers,
    clientId: "kaireon-test-raw",
    ...(options.ssl !== undefined ? { ssl: options.ssl as KafkaConfig["ssl"] } : {}),
    ...(options.sasl !== undefined ? { sasl: options.sasl as KafkaConfig["sasl"] } : {}),
  });
  const producer = kafka.producer();
  let connected: Promise<void> | undefined;
  return {
    async write(topic: string, value: string, key = "raw") {
      connected ??= producer.connect();
      await connected;
      await producer.send({ topic: options.topicPrefix + topic, messages: [{ key, value }] });
    },
    close: () => producer.disconnect(),
  };
}

/** This process's ESTABLISHED TCP connections to `port`, from the kernel (/proc): what a client holds open, without reaching into it. Linux only. */
export function ownConnections(port: number): Array<{ localPort: number }> {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      // the fd closed meanwhile
    }
  }
  const found: Array<{ localPort: number }> = [];
  for (const file of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const local = Number.parseInt((cols[1] as string).split(":")[1] as string, 16);
      const remote = Number.parseInt((cols[2] as string).split(":")[1] as string, 16);
      // 01 = ESTABLISHED
      if (remote === port && cols[3] === "01" && inodes.has(cols[9] as string)) found.push({ localPort: local });
    }
  }
  return found;
}

export function connectionsTo(port: number): number {
  return ownConnections(port).length;
}

const run = promisify(execFile);

/**
 * Aborts this process's connections to `port` in the kernel (`ss -K`, as a network fault or a
 * firewall reset would: the peer gets a RST, the client ECONNABORTED). Only our own sockets, picked
 * by their local port, so other clients of the shared broker are untouched. Needs root (CAP_NET_ADMIN).
 */
export async function abortOwnConnections(port: number): Promise<number> {
  const mine = ownConnections(port);
  for (const { localPort } of mine) {
    await run("ss", ["-K", "-t", "state", "established", "src", `127.0.0.1:${localPort}`, "dst", `127.0.0.1:${port}`]).catch(
      (error: unknown) => {
        throw new Error(`ss -K could not abort a connection (needs iproute2 and CAP_NET_ADMIN): ${(error as Error).message}`);
      },
    );
  }
  return mine.length;
}

/**
 * Sets (or replaces: a rotation) a SCRAM-SHA-512 user on the broker with Kafka's own kafka-configs
 * tool for the running version (KAFKA_TEST_CONFIGS, from tooling/services/kafka.sh: 4.x moved it out
 * of the broker jar). `password: undefined` deletes the user.
 */
export async function setScramUser(user: string, password: string | undefined): Promise<void> {
  const tool = need("KAFKA_TEST_CONFIGS");
  const brokers = await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  const change =
    password === undefined
      ? ["--delete-config", "SCRAM-SHA-512"]
      : ["--add-config", `SCRAM-SHA-512=[iterations=4096,password=${password}]`];
  await run(tool, ["--bootstrap-server", brokers, "--alter", ...change, "--entity-type", "users", "--entity-name", user], {
    timeout: 60_000,
  });
}
