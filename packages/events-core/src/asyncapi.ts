// The contract as one machine-readable document: AsyncAPI 3.0, built from the topic registry (the
// envelope schema of every topic) and the backend mapping of DESIGN.md. Consumers generate code,
// docs and tests from it; `asyncapi/kaireon-events.asyncapi.json` is this function's output, kept in
// sync by a test. Where AsyncAPI has a binding (Kafka) it is used; where none exists (EventBridge,
// Kinesis) or the binding is reserved and empty (Redis 0.1.0), `x-kaireon-*` extensions say where
// an event goes.

import { z } from "zod";
import { CLOUDEVENTS_CONTENT_TYPE, eventSchemas } from "./envelope.js";
import { type TopicName, topicNames } from "./topics.js";

export interface AsyncApiOptions {
  /**
   * `info.version`. Default `1.0.0`: the shipped document is versioned by the package it ships in,
   * and every channel by its topic name (`.v1`, `.v2`); pass the installed core version to stamp it.
   */
  version?: string;
}

/** An AsyncAPI 3.0 document as plain JSON. */
export interface AsyncApiDocument {
  asyncapi: "3.0.0";
  id: string;
  info: { title: string; version: string; description: string; license: { name: string } };
  defaultContentType: string;
  servers: Record<string, unknown>;
  channels: Record<string, unknown>;
  operations: Record<string, unknown>;
  components: Record<string, unknown>;
}

const KAFKA_BINDING = "0.5.0";
const JSON_SCHEMA_DRAFT_07 = "application/schema+json;version=draft-07";

/** `interaction.recorded.v1` → `interactionRecordedV1`: ids AsyncAPI tools turn into code names. */
export function asyncApiId(topic: string): string {
  return topic.replace(/[.\-_]+([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
}

const servers = {
  redis: {
    host: "{host}",
    protocol: "redis",
    title: "Redis (EVENT_PUBLISHER=redis, the default)",
    description:
      "REDIS_URL. REDIS_MODE=pubsub (default): PUBLISH on channel `<REDIS_CHANNEL_PREFIX><topic>`, no durability, dropped when no subscriber listens. REDIS_MODE=streams: XADD to stream `<REDIS_CHANNEL_PREFIX><topic>` (MAXLEN ~ REDIS_STREAM_MAXLEN), replayable, consumer groups.",
    variables: { host: { default: "localhost:6379", description: "host:port of REDIS_URL" } },
  },
  kafka: {
    host: "{brokers}",
    protocol: "kafka",
    title: "Apache Kafka or Redpanda (EVENT_PUBLISHER=kafka or redpanda)",
    description:
      "KAFKA_BROKERS. Topic `<KAFKA_TOPIC_PREFIX><topic>`, record value = the envelope JSON, header `content-type: application/cloudevents+json`, record key = `partitionkey`. TLS with KAFKA_TLS_ENABLED, SASL with KAFKA_SASL_MECHANISM.",
    variables: { brokers: { default: "localhost:9092", description: "the first of KAFKA_BROKERS" } },
    bindings: { kafka: { bindingVersion: KAFKA_BINDING } },
  },
  msk: {
    host: "{brokers}",
    protocol: "kafka-secure",
    title: "Amazon MSK (EVENT_PUBLISHER=msk or aws_msk)",
    description:
      "MSK_BROKERS. As Kafka, topic `<MSK_TOPIC_PREFIX><topic>`, always over TLS. MSK_AUTH_MODE=iam_role (default): SASL/OAUTHBEARER with an AWS-signed token, port 9098; sasl_scram: SCRAM-SHA-512, port 9096.",
    variables: {
      brokers: { default: "b-1.cluster.kafka.us-east-1.amazonaws.com:9098", description: "the first of MSK_BROKERS" },
    },
    security: [{ $ref: "#/components/securitySchemes/mskScram" }],
    bindings: { kafka: { bindingVersion: KAFKA_BINDING } },
    "x-kaireon-msk-auth": {
      iam_role:
        "SASL/OAUTHBEARER; the token is signed from the AWS credential chain (MSK_ROLE_ARN to assume a role), cached and refreshed before expiry; port 9098",
      sasl_scram: "SASL/SCRAM-SHA-512 with MSK_SASL_USERNAME / MSK_SASL_PASSWORD (an AmazonMSK_ secret); port 9096",
    },
  },
  eventbridge: {
    host: "events.{region}.amazonaws.com",
    protocol: "https",
    title: "Amazon EventBridge (EVENT_PUBLISHER=eventbridge)",
    description:
      "PutEvents on bus EVENTBRIDGE_BUS (default `default`): Source = EVENTBRIDGE_SOURCE or the envelope `source`, DetailType = the topic, Detail = the whole envelope. Durable delivery to rule targets, no replay.",
    variables: { region: { default: "us-east-1", description: "AWS_REGION" } },
  },
  kinesis: {
    host: "kinesis.{region}.amazonaws.com",
    protocol: "https",
    title: "Amazon Kinesis Data Streams (EVENT_PUBLISHER=kinesis)",
    description:
      "PutRecords to stream KINESIS_STREAM (every topic in one stream; readers select by the envelope `type`): Data = the envelope JSON, PartitionKey = `partitionkey`. Ordered per shard, 24 h – 365 d replay.",
    variables: { region: { default: "us-east-1", description: "AWS_REGION" } },
  },
} as const;

function channel(topic: TopicName) {
  const id = asyncApiId(topic);
  return {
    address: topic,
    title: topic,
    description: `Every backend carries \`${topic}\` events with the same envelope; the address is the topic name plus the backend's prefix (see x-kaireon-addressing).`,
    messages: { [id]: { $ref: `#/components/messages/${id}` } },
    bindings: { kafka: { bindingVersion: KAFKA_BINDING } },
    "x-kaireon-addressing": {
      redis: { pubsub: { channel: `<REDIS_CHANNEL_PREFIX>${topic}` }, streams: { stream: `<REDIS_CHANNEL_PREFIX>${topic}` } },
      kafka: { topic: `<KAFKA_TOPIC_PREFIX>${topic}`, key: "partitionkey", headers: { "content-type": CLOUDEVENTS_CONTENT_TYPE } },
      msk: { topic: `<MSK_TOPIC_PREFIX>${topic}`, key: "partitionkey", headers: { "content-type": CLOUDEVENTS_CONTENT_TYPE } },
      eventbridge: {
        bus: "<EVENTBRIDGE_BUS, default `default`>",
        "detail-type": topic,
        source: "<EVENTBRIDGE_SOURCE, or the envelope source>",
        detail: "the envelope",
        rulePattern: { "detail-type": [topic] },
      },
      kinesis: {
        stream: "<KINESIS_STREAM>",
        partitionKey: "partitionkey (longer than 256 characters: sha256: + its 64-hex SHA-256)",
        data: "the envelope JSON",
      },
    },
  };
}

function message(topic: TopicName) {
  const id = asyncApiId(topic);
  return {
    name: topic,
    title: topic,
    summary: `A CloudEvents 1.0 event (structured JSON mode) whose type is ${topic}.`,
    contentType: CLOUDEVENTS_CONTENT_TYPE,
    payload: { schemaFormat: JSON_SCHEMA_DRAFT_07, schema: { $ref: `#/components/schemas/${id}` } },
    correlationId: {
      description: "The event id (UUIDv7): a re-send keeps it, so consumers dedupe on it.",
      location: "$message.payload#/id",
    },
    bindings: {
      kafka: {
        key: {
          type: "string",
          minLength: 1,
          description: "The envelope's partitionkey (`tenantId:customerId`): one customer's events stay in order on one partition.",
        },
        bindingVersion: KAFKA_BINDING,
      },
    },
  };
}

/** The envelope of `topic` as JSON Schema draft-07, the dialect AsyncAPI 3.0 schemas build on. */
export function topicJsonSchemaDraft07(topic: TopicName): Record<string, unknown> {
  const schema = z.toJSONSchema(eventSchemas[topic], { target: "draft-07", io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  schema.title = topic;
  return schema;
}

/** The AsyncAPI 3.0 document of every topic in the registry, on every backend. */
export function asyncApiDocument(options: AsyncApiOptions = {}): AsyncApiDocument {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const topic of topicNames) {
    const id = asyncApiId(topic);
    channels[id] = channel(topic);
    messages[id] = message(topic);
    schemas[id] = topicJsonSchemaDraft07(topic);
    const ref = { channel: { $ref: `#/channels/${id}` }, messages: [{ $ref: `#/channels/${id}/messages/${id}` }] };
    operations[`publish${id[0]?.toUpperCase()}${id.slice(1)}`] = {
      action: "send",
      title: `Publish ${topic}`,
      summary: `publisher.publish("${topic}", data): validated before any I/O.`,
      ...ref,
    };
    operations[`consume${id[0]?.toUpperCase()}${id.slice(1)}`] = {
      action: "receive",
      title: `Consume ${topic}`,
      summary: `subscriber.subscribe(["${topic}"], handler), or parseEvent() on a raw message: readers accept fields they do not know.`,
      ...ref,
    };
  }
  return {
    asyncapi: "3.0.0",
    id: "urn:kaireon:events",
    info: {
      title: "Kaireon domain events",
      version: options.version ?? "1.0.0",
      description:
        "The domain events of the Kaireon platform. Every event is a CloudEvents 1.0 envelope in structured JSON mode, identical on every backend. Topic names are the contract: `.v1` stays compatible; an incompatible change is a new `.v2` topic, published beside `.v1` for a while.",
      license: { name: "MIT" },
    },
    defaultContentType: CLOUDEVENTS_CONTENT_TYPE,
    servers,
    channels,
    operations,
    components: {
      messages,
      schemas,
      securitySchemes: {
        mskScram: {
          type: "scramSha512",
          description: "MSK_AUTH_MODE=sasl_scram. The default iam_role mode is described by x-kaireon-msk-auth on the msk server.",
        },
      },
    },
  };
}
