// The client seam over @platformatic/kafka (KAFKA_CLIENT=platformatic): the same ports as the kafkajs
// implementation in kafka-client.ts, so the publisher, subscriber and topic code do not know which one
// runs. What differs from kafkajs and is handled here:
// - keyed partitioning: the library's default partitioner is not Java's; its compatibilityPartitioner
//   is (murmur2 & 0x7fffffff, as kafkajs and the Java client), so a key lands on the same partition
//   whichever client wrote it. The seam computes that same hash with murmurhash's MurmurHash2 in
//   32-bit integer arithmetic instead (javaPartitioner below): the library's runs on BigInt.
// - idempotence: the producer itself forces acks=all and one request in flight per broker; its retries
//   are bounded here (left alone it retries forever), so a dead broker surfaces within the budget.
// - commits: autocommit off, each record committed after onRecord (the library coalesces the commits of
//   a partition into one request in flight). Its autocommit would commit records as they are fetched,
//   before they are handled.
// - start offsets: the stream reads COMMITTED offsets (EARLIEST where none), and the starts the
//   subscriber fixed for partitions without a commit are put in place before the first fetch of them,
//   which is what kafkajs' seek does.
// - SASL re-authentication (KIP-368) is the library's own, at 80 % of the session the broker granted.
// - a connection's second 'error': the library's pool listens with once('error'), so when a socket
//   error is followed by the failure of the SASL handshake it was carrying (a reset mid-handshake),
//   the second emit has no listener and throws from a socket callback — an uncaught exception that
//   ends the application's process. Every connection gets a lasting listener (below); the error
//   still reaches the operation that waits on it through the library's callbacks.

import { subscribe } from "node:diagnostics_channel";
import { EventEmitter } from "node:events";
import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { CLOUDEVENTS_CONTENT_TYPE, type Logger } from "@kaireon/events-core/backend";
import {
  Admin,
  type BaseOptions,
  Consumer,
  type Message,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  Producer,
  type SASLOptions,
  stringSerializers,
} from "@platformatic/kafka";
import murmurhash from "murmurhash";
import type {
  AdminPort,
  ConsumerPort,
  IncomingRecord,
  KafkaClient,
  KafkaConnection,
  KafkaSasl,
  OutgoingRecord,
  ProducerPort,
  RecordVerdict,
  TopicSpec,
} from "./kafka-client.js";
import { groupJoin } from "./kafka-group-join.js";

// Connections announce themselves on the library's diagnostics channel as they are constructed,
// before any socket exists (see the header: a second 'error' would otherwise be uncaught).
const ignoreError = () => {};
subscribe("plt:kafka:instances", (message) => {
  const { type, instance } = message as { type?: string; instance?: unknown };
  if (type === "connection" && instance instanceof EventEmitter) instance.on("error", ignoreError);
});

function saslOf(sasl: KafkaSasl): SASLOptions {
  switch (sasl.mechanism) {
    case "plain":
      return { mechanism: "PLAIN", username: sasl.username, password: sasl.password };
    case "scram-sha-256":
      return { mechanism: "SCRAM-SHA-256", username: sasl.username, password: sasl.password };
    case "scram-sha-512":
      return { mechanism: "SCRAM-SHA-512", username: sasl.username, password: sasl.password };
    case "oauthbearer": {
      const provider = sasl.oauthBearerProvider;
      // Called at every (re-)authentication: the provider's cache decides when a token is minted.
      return { mechanism: "OAUTHBEARER", token: async () => (await provider()).value };
    }
  }
}

function baseOptions(connection: KafkaConnection): BaseOptions {
  // Within roughly retryBudgetMs of retries, as the kafkajs side: a dead broker becomes an error.
  const maxDelay = Math.max(500, Math.min(5000, Math.floor(connection.retryBudgetMs / 4)));
  const requestTimeout = Math.max(5000, Math.min(30_000, connection.retryBudgetMs));
  const options: BaseOptions = {
    clientId: connection.clientId,
    bootstrapBrokers: connection.brokers,
    connectTimeout: connection.connectionTimeoutMs,
    requestTimeout,
    timeout: requestTimeout,
    retries: Math.max(2, Math.ceil(connection.retryBudgetMs / maxDelay)),
    // A refused password is retried too (the library wraps it in a retriable connection error): at
    // once, so it fails within a second or two as with kafkajs rather than after the backoff.
    retryDelay: (_client, _operation, attempt, _retries, error) =>
      isAuthFailure(error) ? 0 : Math.min(maxDelay, 200 * 2 ** Math.max(0, attempt - 1)),
    autocreateTopics: true,
  };
  if (connection.ssl !== undefined && connection.ssl !== false) {
    options.tls = connection.ssl === true ? {} : (connection.ssl as ConnectionOptions);
    // SNI for host names (MSK needs it); an IP address may not be sent as a server name.
    if (connection.brokers.every((b) => isIP(b.replace(/:\d+$/, "").replace(/^\[|\]$/g, "")) === 0)) options.tlsServerName = true;
  }
  if (connection.sasl) options.sasl = saslOf(connection.sasl);
  return options;
}

function isAuthFailure(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const e = queue.shift();
    if (!e || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    if ((e as { code?: string }).code === "PLT_KFK_AUTHENTICATION") return true;
    const { cause, errors } = e as { cause?: unknown; errors?: unknown };
    queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return false;
}

// The headers of a record without a traceparent are the same for every event: one Map, shared (the
// library iterates it and never writes to it; an instrumentation that injects a context into a
// headers carrier sets a property on a Map, not an entry, so a shared one sends no one else's).
const CONTENT_TYPE_HEADERS: ReadonlyMap<string, string> = new Map([["content-type", CLOUDEVENTS_CONTENT_TYPE]]);

// The library serializes every header of every record. The names and the content type are the same
// strings each time: their bytes are made once (the writer only reads them into the request).
const headerBytes = new Map<string, Buffer>(
  ["content-type", "traceparent", CLOUDEVENTS_CONTENT_TYPE].map((text) => [text, Buffer.from(text, "utf8")]),
);
const headerSerializer = (text: string | undefined): Buffer | undefined =>
  text === undefined ? undefined : (headerBytes.get(text) ?? Buffer.from(text, "utf8"));
const serializers = { ...stringSerializers, headerKey: headerSerializer, headerValue: headerSerializer };

// Java's keyed partitioning (Utils.toPositive(Utils.murmur2(keyBytes)) % partitions; the library takes
// the remainder): the hash compatibilityPartitioner computes, bit for bit (a unit test compares them),
// for about 1/15 of its CPU — it multiplies BigInts, ~0.75 µs per 14-byte key on the project's
// machine against ~0.05 µs here, out of ~10 µs the library spends on an event in all. No key
// (never from the publisher): partition 0, as compatibilityPartitioner.
const MURMUR2_SEED = 0x9747b28c;
export const javaPartitioner = (_message: unknown, key: Buffer | undefined): number =>
  Buffer.isBuffer(key) ? murmurhash.v2(key, MURMUR2_SEED) & 0x7fffffff : 0;

type LibraryMessage = { topic: string; key: string; value: string; headers: ReadonlyMap<string, string> };

function toNumber(value: bigint | number | undefined): number {
  return Number(value ?? 0);
}

export function createPlatformaticClient(connection: KafkaConnection, _logger: Logger): KafkaClient {
  const base = () => baseOptions(connection);

  return {
    producer(): ProducerPort {
      const make = () =>
        new Producer<string, string, string, string>({
          ...base(),
          idempotent: true,
          acks: -1,
          partitioner: javaPartitioner,
          serializers,
        });
      // Made now (no I/O until used); a new one after disconnect, with a new producer id.
      let producer: Producer<string, string, string, string> | undefined = make();
      return {
        // The library connects on first use; connect() opens the connections and the producer id now,
        // so a wrong password or a dead broker shows at connect as with kafkajs.
        async connect() {
          producer ??= make();
          await producer.initIdempotentProducer({});
        },
        async disconnect() {
          const p = producer;
          producer = undefined;
          await p?.close();
        },
        async sendBatch(records, compression) {
          producer ??= make();
          const messages: LibraryMessage[] = new Array(records.length);
          for (let i = 0; i < records.length; i++) {
            const r = records[i] as OutgoingRecord;
            const headers =
              r.traceparent === undefined
                ? CONTENT_TYPE_HEADERS
                : new Map([
                    ["content-type", CLOUDEVENTS_CONTENT_TYPE],
                    ["traceparent", r.traceparent],
                  ]);
            messages[i] = { topic: r.topic, key: r.key, value: r.value, headers };
          }
          await producer.send({
            messages: messages as Array<Omit<LibraryMessage, "headers"> & { headers: Map<string, string> }>,
            compression,
          });
        },
      };
    },

    consumer(groupId: string): ConsumerPort {
      const consumer = new Consumer({
        ...base(),
        groupId,
        autocommit: false,
        // kafkajs' defaults: a closed or crashed member is noticed by the group in 30 s, not 60.
        sessionTimeout: 30_000,
        rebalanceTimeout: 60_000,
        heartbeatInterval: 3000,
        maxWaitTime: 5000,
      });
      let topics: string[] = [];
      let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
      let closing = false;
      const starts = new Map<string, bigint>();
      const crashListeners: Array<(error: unknown, restart: boolean) => void> = [];
      const join = groupJoin(groupId);
      let loop: Promise<void> | undefined;

      const crash = (error: unknown) => {
        if (closing) return;
        join.failed(error);
        // The stream is gone: the subscriber replaces the consumer (the library would not restart it).
        for (const listener of crashListeners) listener(error, false);
      };

      const consume = async (onRecord: (record: IncomingRecord) => Promise<RecordVerdict>) => {
        const s = stream as MessagesStream<Buffer, Buffer, Buffer, Buffer>;
        let held = false;
        for await (const message of s as AsyncIterable<Message<Buffer, Buffer, Buffer, Buffer>>) {
          if (held || closing) continue;
          const verdict = await onRecord({
            topic: message.topic,
            partition: message.partition,
            offset: message.offset.toString(),
            value: message.value ?? null,
            timestamp: message.timestamp.toString(),
          });
          // Closing: this record and the rest stay uncommitted; the group reads them again.
          if (verdict === "hold") {
            held = true;
            continue;
          }
          // Not awaited: the library coalesces a partition's commits; a lost one means a redelivery.
          void Promise.resolve(message.commit()).catch(() => {});
        }
      };

      return {
        async connect() {
          // Connections are opened by the first group request; a broker or password problem shows there.
        },
        async subscribe(names) {
          topics = names;
        },
        seek(topic, partition, offset) {
          starts.set(`${topic}:${partition}`, BigInt(offset));
        },
        onCrash(listener) {
          crashListeners.push(listener);
        },
        async run(onRecord) {
          const s = (await consumer.consume({
            topics,
            mode: MessagesStreamModes.COMMITTED,
            fallbackMode: MessagesStreamFallbackModes.EARLIEST,
          })) as MessagesStream<Buffer, Buffer, Buffer, Buffer>;
          stream = s;
          // 'offsets' is emitted once the fetch positions of the assigned partitions are known and
          // before they are fetched: a start fixed by seek() replaces the position once, at the
          // first assignment that has its partition (kafkajs' seek does the same).
          s.on("offsets", () => {
            if (starts.size === 0) return;
            const assigned = new Set((consumer.assignments ?? []).flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)));
            for (const [key, offset] of starts) {
              if (!assigned.has(key)) continue;
              s.offsetsToFetch.set(key, offset);
              starts.delete(key);
            }
          });
          s.on("error", crash);
          loop = consume(onRecord).catch(crash);
          join.joined();
        },
        joined: (timeoutMs, signal) => join.waitUntilJoined(timeoutMs, signal),
        async disconnect() {
          closing = true;
          const s = stream;
          stream = undefined;
          // The stream's close commits what was queued for commit, then the group is left.
          if (s && !s.destroyed) await s.close().catch(() => {});
          await loop?.catch(() => {});
          await consumer.close(true).catch(() => {});
        },
      };
    },

    admin(): AdminPort {
      let admin: Admin | undefined;
      const get = () => {
        admin ??= new Admin(base());
        return admin;
      };
      const listOffsets = async (topic: string, timestamp: bigint) => {
        const a = get();
        const metadata = await a.metadata({ topics: [topic] });
        const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
        const [listed] = await a.listOffsets({
          topics: [{ name: topic, partitions: Array.from({ length: count }, (_, i) => ({ partitionIndex: i, timestamp })) }],
        });
        return (listed?.partitions ?? []).map((p) => ({ partition: p.partitionIndex, offset: p.offset }));
      };
      return {
        async connect() {
          await get().metadata({ topics: [] });
        },
        async disconnect() {
          const a = admin;
          admin = undefined;
          await a?.close();
        },
        async createTopics(specs: TopicSpec[]) {
          const a = get();
          const existing = new Set(await a.listTopics());
          const missing = specs.filter((t) => !existing.has(t.topic));
          for (const t of missing) {
            await a
              .createTopics({
                topics: [t.topic],
                partitions: t.numPartitions ?? -1,
                replicas: t.replicationFactor ?? -1,
                configs: (t.configEntries ?? []).map((c) => ({ name: c.name, value: c.value })),
              })
              .catch((error: unknown) => {
                // Created meanwhile by another process: what kafkajs' createTopics reports as false.
                if (!JSON.stringify(error).includes("TOPIC_ALREADY_EXISTS")) throw error;
              });
          }
          if (missing.length > 0) await a.metadata({ topics: missing.map((t) => t.topic), forceUpdate: true });
          return missing.length > 0;
        },
        listTopics: () => get().listTopics(),
        async topicOffsets(topic) {
          const [low, high] = await Promise.all([listOffsets(topic, -2n), listOffsets(topic, -1n)]);
          const lows = new Map(low.map((p) => [p.partition, p.offset]));
          return high.map((p) => ({ partition: p.partition, low: String(lows.get(p.partition) ?? 0n), high: String(p.offset) }));
        },
        async offsetsByTimestamp(topic, timestamp) {
          const [at, high] = await Promise.all([listOffsets(topic, BigInt(timestamp)), listOffsets(topic, -1n)]);
          const highs = new Map(high.map((p) => [p.partition, p.offset]));
          // No record at or after the time: -1 from the broker; the end, as kafkajs reports it.
          return at.map((p) => ({ partition: p.partition, offset: String(p.offset < 0n ? (highs.get(p.partition) ?? 0n) : p.offset) }));
        },
        async committedOffsets(groupId, topic) {
          const a = get();
          const metadata = await a.metadata({ topics: [topic] });
          const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
          const [group] = await a.listConsumerGroupOffsets({
            groups: [{ groupId, topics: [{ name: topic, partitionIndexes: Array.from({ length: count }, (_, i) => i) }] }],
          });
          const entry = group?.topics.find((t) => t.name === topic);
          return (entry?.partitions ?? []).map((p) => ({ partition: p.partitionIndex, offset: String(p.committedOffset) }));
        },
        async describeCluster() {
          const metadata = await get().metadata({ topics: [], forceUpdate: true });
          return { brokers: toNumber(metadata.brokers.size) };
        },
      };
    },
  };
}
