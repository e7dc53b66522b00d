// The shared conformance suite against a real Kinesis API (moto server), in both ordering modes.
// Default mode does not claim per-key order (a record retried after a partial failure lands after
// later records of its key); strict mode does, and runs that test too.

import { PutRecordCommand } from "@aws-sdk/client-kinesis";
import { describeBackendConformance } from "@kaireon/events-testkit";
import { createKinesisPublisher, createKinesisSubscriber, type KinesisOptions } from "../../src/index.js";
import { countingClient, createStream, deadPort, motoEndpoint, quiet, testOptions } from "./moto.js";

function suite(name: string, ordering: KinesisOptions["ordering"]) {
  let setup: Promise<{ endpoint: string; stream: string }> | undefined;
  const ready = () =>
    (setup ??= (async () => {
      const endpoint = await motoEndpoint();
      const { client } = countingClient(endpoint);
      const stream = await createStream(client, `conformance-${ordering}`, 2);
      client.destroy();
      return { endpoint, stream };
    })());

  describeBackendConformance({
    name,
    capabilities: { perKeyOrder: ordering === "strict", replay: true, replayFromTime: true, receivers: false },
    createPublisher: async () => {
      const { endpoint, stream } = await ready();
      return createKinesisPublisher({ ...testOptions(endpoint, stream, { ordering }), ...quiet });
    },
    createQueueBoundPublisher: async (maxQueued) => {
      const { endpoint, stream } = await ready();
      return createKinesisPublisher({ ...testOptions(endpoint, stream, { ordering, maxQueued, maxRecordsPerRequest: 4 }), ...quiet });
    },
    createSubscriber: async () => {
      const { endpoint, stream } = await ready();
      return createKinesisSubscriber({ ...testOptions(endpoint, stream), ...quiet });
    },
    createUnreachablePublisher: async () => {
      const endpoint = `http://127.0.0.1:${await deadPort()}`;
      return createKinesisPublisher({ ...testOptions(endpoint, "nowhere", { publishTimeoutMs: 20_000 }), ...quiet });
    },
    injectRaw: async (_topic, raw) => {
      const { endpoint, stream } = await ready();
      const { client } = countingClient(endpoint);
      await client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: "raw", Data: new TextEncoder().encode(raw) }));
      client.destroy();
    },
  });
}

suite("kinesis (moto, ordering=none)", "none");
suite("kinesis (moto, ordering=strict)", "strict");
