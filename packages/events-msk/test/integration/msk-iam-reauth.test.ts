// Re-authentication against a broker that verifies the token and ends sessions: the IAM_REAUTH listener
// of tooling/services/kafka.sh (connections.max.reauth.ms = KAFKA_TEST_IAM_REAUTH_MS, 15 s) with
// tokens that live TOKEN_SECONDS (20 s): each token is signed with role credentials moto's STS issued
// for that long, registered with the validator with that expiry, so the broker gives every session
// min(token left, 15 s) and closes a connection that has not re-authenticated by then. A publisher and
// a subscriber run for KAIREON_MSK_REAUTH_SECONDS (default 30; the report's figures come from longer
// runs); every authentication must be accepted, and every acknowledged event must arrive.
// kafkajs re-authenticates in place (KIP-368: SaslAuthenticate on the same connection, reauthenticationThreshold
// 10 s before the session ends); the figures printed give the authentications, tokens signed, failed
// publishes and the connection errors kafkajs logged, per client.

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isIP } from "node:net";
import { join } from "node:path";
import { ensureTopics } from "@kaireon/events-kafka";
import { requireService, sampleDecision } from "@kaireon/events-testkit";
import { Kafka, logLevel } from "kafkajs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createMskIamTokenProvider,
  createMskPublisher,
  createMskSubscriber,
  type MskIamTokenProvider,
  type MskTokenGenerator,
  readMskOptions,
  toKafkaOptions,
} from "../../src/index.js";
import { signMskToken } from "../../src/msk-iam-token.js";
import { type IamListener, iamEnv, iamListener, mskClients, shortRoleCredentials, uniquePrefix, useIamTestKey } from "./helpers.js";

const TOKEN_SECONDS = 20;
const RUN_SECONDS = Number(process.env.KAIREON_MSK_REAUTH_SECONDS ?? 30);
let iam: IamListener;
let endpoint: string;
const clients = await mskClients();

beforeAll(async () => {
  iam = await iamListener();
  useIamTestKey(iam); // for the admin client that makes the topic
  endpoint = await requireService({ variable: "AWS_ENDPOINT_URL", name: "AWS emulator (moto)" });
});

/** A token generator: new STS role credentials for TOKEN_SECONDS per token, the validator told their expiry. */
function shortLivedTokens(client: string, signed: { accessKeyId: string; expiresAt: number }[]): MskTokenGenerator {
  const credentials = shortRoleCredentials(iam, endpoint, { name: "kaireon-reauth", sessionName: client, seconds: TOKEN_SECONDS });
  return async ({ region }) => {
    const c = await credentials();
    const token = await signMskToken(region, async () => c);
    signed.push({ accessKeyId: c.accessKeyId, expiresAt: token.expiryTime });
    return token;
  };
}

/** A logger that keeps what kafkajs reports about connections and authentication (it logs warn and up through ours). */
function countingLogger() {
  const lines: string[] = [];
  const note = (message: string, fields?: unknown) => {
    const line = `${message} ${JSON.stringify(fields ?? {})}`;
    if (/connect|closed|disconnect|socket|ECONN|timeout|authenticat/i.test(line)) lines.push(line);
  };
  return { logger: { debug() {}, info() {}, warn: note, error: note }, lines };
}

/**
 * Counts connections opened to a port, at net.Socket.prototype.connect: every client's TLS socket
 * connects through it, however the client imports node:tls. A client that re-authenticates in place
 * keeps its connections; one that reconnects opens new ones.
 */
function countConnections(port: number) {
  const { Socket } = createRequire(import.meta.url)("node:net") as typeof import("node:net");
  const original = Socket.prototype.connect;
  let count = 0;
  Socket.prototype.connect = function (this: InstanceType<typeof Socket>, ...args: unknown[]) {
    const first = args[0] as { port?: number | string } | number | string | undefined;
    const target = typeof first === "object" && first !== null ? first.port : first;
    if (Number(target) === port) count++;
    return (original as (...a: unknown[]) => InstanceType<typeof Socket>).apply(this, args);
  } as typeof original;
  return {
    count: () => count,
    restore: () => {
      Socket.prototype.connect = original;
    },
  };
}

/** The broker's log lines from the validator (tooling/services/kafka.sh logs it at INFO), if readable. */
function validatorLog(): string[] {
  const file = join(process.env.KAIREON_RUN_DIR ?? "", "kafka", "kafka.log");
  if (!process.env.KAIREON_RUN_DIR || !existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.includes("MSK IAM token"));
}

describe(`msk iam_role re-authentication (${TOKEN_SECONDS} s tokens, sessions of at most 15 s)`, () => {
  it.each(clients)(
    `$name: publisher and subscriber run ${RUN_SECONDS} s: every authentication accepted, nothing acknowledged lost`,
    { timeout: (RUN_SECONDS + 150) * 1000 },
    async (client) => {
      const prefix = uniquePrefix("reauth");
      const options = readMskOptions(iamEnv(iam, prefix, { ...client.env, MSK_BROKERS: iam.reauthBrokers }));
      const pubTokens: { accessKeyId: string; expiresAt: number }[] = [];
      const subTokens: { accessKeyId: string; expiresAt: number }[] = [];
      const pubProvider: MskIamTokenProvider = createMskIamTokenProvider({
        region: iam.region,
        generate: shortLivedTokens(`pub-${Date.now()}`, pubTokens),
      });
      const subProvider: MskIamTokenProvider = createMskIamTokenProvider({
        region: iam.region,
        generate: shortLivedTokens(`sub-${Date.now()}`, subTokens),
      });
      const pubLog = countingLogger();
      const subLog = countingLogger();
      const rawPrefix = uniquePrefix("noreauth");
      await ensureTopics(toKafkaOptions(options).kafka, { partitions: 3, replicationFactor: 1, logger: pubLog.logger });
      await ensureTopics(toKafkaOptions({ ...options, topicPrefix: rawPrefix }).kafka, {
        partitions: 3,
        replicationFactor: 1,
        logger: pubLog.logger,
      });
      pubLog.lines.length = 0;
      const logBefore = validatorLog().length;
      const connections = countConnections(Number(iam.reauthBrokers.split(",")[0]?.split(":")[1]));

      const publisher = createMskPublisher(options, { logger: pubLog.logger, tokenProvider: pubProvider });
      const subscriber = createMskSubscriber(options, { logger: subLog.logger, tokenProvider: subProvider });
      const received = new Set<string>();
      const subscriptionErrors: string[] = [];
      const subscription = await subscriber.subscribe(
        ["decision.made.v1"],
        async (event) => {
          received.add(event.id);
        },
        { from: "earliest", group: `${prefix}group`, onError: (f) => subscriptionErrors.push(`${f.error.code}: ${f.error.message}`) },
      );
      // The control: raw kafkajs told never to re-authenticate (what a client without KIP-368 does). The
      // broker must then end its sessions: each one shows as a new connection (a new authentication).
      const rawTokens: { accessKeyId: string; expiresAt: number }[] = [];
      const rawProvider = createMskIamTokenProvider({ region: iam.region, generate: shortLivedTokens(`raw-${Date.now()}`, rawTokens) });
      const rawLogs: string[] = [];
      let rawConnections = 0;
      const tls = createRequire(import.meta.url)("node:tls") as typeof import("node:tls");
      const raw = new Kafka({
        socketFactory: ({ host, port, ssl, onConnect }) => {
          rawConnections++;
          return tls.connect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...(ssl as object) }, onConnect);
        },
        brokers: options.brokers,
        clientId: "kaireon-test-no-reauth",
        ssl: { ca: [readFileSync(iam.caFile, "utf8")] },
        sasl: { mechanism: "oauthbearer", oauthBearerProvider: rawProvider.oauthBearerProvider },
        reauthenticationThreshold: -86_400_000,
        logLevel: logLevel.ERROR,
        logCreator: () => (entry) => void rawLogs.push(entry.log.message),
      }).producer();
      await raw.connect();
      let rawSent = 0;
      const rawFailed: string[] = [];
      const acked: string[] = [];
      const failed: string[] = [];
      const started = Date.now();
      try {
        const inflight = new Set<Promise<void>>();
        while (Date.now() - started < RUN_SECONDS * 1000) {
          const p: Promise<void> = publisher.publish("decision.made.v1", sampleDecision()).then(
            (r) => void acked.push(r.id),
            (e: { code?: string; message?: string }) => void failed.push(`${e.code}: ${e.message}`),
          );
          inflight.add(p);
          const r: Promise<void> = raw.send({ topic: `${rawPrefix}decision.made.v1`, messages: [{ key: "raw", value: "{}" }] }).then(
            () => void rawSent++,
            (e: Error) => void rawFailed.push(e.message),
          );
          inflight.add(r);
          void r.finally(() => inflight.delete(r));
          void p.finally(() => inflight.delete(p));
          if (inflight.size >= 20) await Promise.race(inflight);
          await new Promise((r) => setTimeout(r, 100));
        }
        await Promise.all(inflight);
        const deadline = Date.now() + 90_000;
        while (acked.some((id) => !received.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      } finally {
        await subscription.close();
        await subscriber.close();
        await publisher.close();
        await raw.disconnect();
        connections.restore();
      }
      const seconds = (Date.now() - started) / 1000;
      const missing = acked.filter((id) => !received.has(id));
      const serverLines = validatorLog().slice(logBefore);
      const byClient = (name: string) => serverLines.filter((l) => l.includes(`/${name}`));
      const pubName = `kaireon-reauth/pub-`;
      const subName = `kaireon-reauth/sub-`;
      const figures = {
        runSeconds: Math.round(seconds),
        publishedAcked: acked.length,
        failedPublishes: failed.length,
        missing: missing.length,
        received: received.size,
        publisher: {
          tokensSigned: pubProvider.stats().generated,
          authentications: pubProvider.stats().served,
          brokerAccepted: byClient(pubName).filter((l) => l.includes("accepted")).length,
          connectionLogs: pubLog.lines.length,
        },
        subscriber: {
          tokensSigned: subProvider.stats().generated,
          authentications: subProvider.stats().served,
          brokerAccepted: byClient(subName).filter((l) => l.includes("accepted")).length,
          connectionLogs: subLog.lines.length,
          errors: subscriptionErrors.length,
        },
        brokerRefused: serverLines.filter((l) => l.includes("refused")).length,
        // The publisher's and the subscriber's together (counted per port).
        packageClientsTlsConnections: connections.count() - rawConnections,
        withoutReauth: {
          tlsConnections: rawConnections,
          sent: rawSent,
          failedSends: rawFailed.length,
          authentications: rawProvider.stats().served,
          tokensSigned: rawProvider.stats().generated,
          errorLogs: rawLogs.length,
        },
      };
      console.info(`[msk iam reauth] ${client.name} ${JSON.stringify(figures)}`);
      for (const line of [...pubLog.lines, ...subLog.lines].slice(0, 12)) console.info(`[msk iam reauth] kafkajs: ${line.slice(0, 300)}`);
      for (const line of failed.slice(0, 5)) console.info(`[msk iam reauth] failed publish: ${line.slice(0, 300)}`);
      for (const line of [...rawFailed.slice(0, 3), ...rawLogs.slice(0, 6)])
        console.info(`[msk iam reauth] without re-auth: ${line.slice(0, 300)}`);

      expect(missing, "acknowledged events that never arrived").toEqual([]);
      expect(subscriptionErrors).toEqual([]);
      expect(
        failed.filter((f) => f.startsWith("AUTH_FAILED")),
        "publishes refused for authentication",
      ).toEqual([]);
      expect(acked.length).toBeGreaterThan(RUN_SECONDS * 2);
      // Sessions end every <= 15 s and tokens every 20 s: over the run each client signed several tokens
      // and authenticated more often than it signed (re-authentications reuse a token with >= 10 s left).
      const minTokens = Math.floor(RUN_SECONDS / TOKEN_SECONDS);
      for (const stats of [pubProvider.stats(), subProvider.stats()]) {
        expect(stats.generated).toBeGreaterThanOrEqual(minTokens);
        expect(stats.failures).toBe(0);
      }
      // kafkajs re-authenticated on the connections it had (KIP-368) rather than opening new ones.
      expect(pubProvider.stats().served + subProvider.stats().served).toBeGreaterThan(figures.packageClientsTlsConnections);
      // Without re-authentication the broker ends the session (15 s): the control had to connect again.
      expect(rawConnections).toBeGreaterThanOrEqual(2);
      if (serverLines.length > 0) expect(figures.brokerRefused, serverLines.filter((l) => l.includes("refused")).join("\n")).toBe(0);
    },
  );
});
