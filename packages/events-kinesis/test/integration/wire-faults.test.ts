// Faults on the wire (events-testkit's describeWireFaults): a Toxiproxy proxy between the SDK's
// Kinesis client (publisher and reader) and moto, every scenario. Kinesis is durable: every event
// reported published is read back from the stream's shards from TRIM_HORIZON with a direct client,
// not through the proxy. The secret access key of this file is its own, so the secret check has
// something distinctive to look for (moto accepts any key and does not check signatures).
// Two limits of this setup, not of the package (no scenario is excluded for them): moto answers every
// request with `Connection: close` and Toxiproxy passes that close on while it swallows the answer, so
// `lostAnswers` ends each attempt at once instead of after the request timeout, as it would against
// AWS; and healing `blackHole` closes the connections Toxiproxy held (its timeout toxic's cleanup),
// where a real half-open socket stays silent — FAULT_MS is longer than one request timeout so the
// timeout path runs anyway, and kinesis-fault.test.ts / eventbridge-sqs-fault.test.ts keep a real one.
import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from "@aws-sdk/client-kinesis";
import { describeWireFaults } from "@kaireon/events-testkit";
import { afterAll, beforeAll } from "vitest";
import { createKinesisClient, createKinesisPublisher, createKinesisSubscriber, type KinesisOptions } from "../../src/index.js";
import { createStream, motoEndpoint, testOptions } from "./moto.js";

const SECRET = "wire-fault-Kinesis-S3cretAccessKey";
process.env.AWS_SECRET_ACCESS_KEY = SECRET;

/**
 * Above the `slow` scenario's latency (2 s + 0.5 s, jitter on top) so a slow link is slow, not
 * failed; short enough that a black hole ends quickly. The SDK makes up to 3 attempts of this each.
 */
const REQUEST_TIMEOUT_MS = 4_000;
const PUBLISH_TIMEOUT_MS = 8_000;
/** Longer than one request timeout, so in a black hole at least one attempt times out. */
const FAULT_MS = 5_000;
const MAX_QUEUED = 2_000;
const MAX_RECORDS = 500;

const endpoint = await motoEndpoint();
let direct: KinesisClient;
let stream: string;

beforeAll(async () => {
  direct = createKinesisClient({ endpoint, requestTimeoutMs: 60_000 });
  stream = await createStream(direct, "wire", 1);
});
afterAll(() => direct?.destroy());

/** Every record of the stream (all shards, from TRIM_HORIZON), straight from moto. */
async function readStream(): Promise<Array<{ id: string; tenantid: string }>> {
  const out: Array<{ id: string; tenantid: string }> = [];
  const { Shards = [] } = await direct.send(new ListShardsCommand({ StreamName: stream }));
  for (const shard of Shards) {
    let iterator = (
      await direct.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }))
    ).ShardIterator;
    while (iterator) {
      const page: GetRecordsCommandOutput = await direct.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) out.push(JSON.parse(Buffer.from(record.Data ?? new Uint8Array()).toString("utf8")));
      if ((page.Records ?? []).length === 0 || page.MillisBehindLatest === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

const options = (address: string, overrides: Partial<KinesisOptions> = {}): KinesisOptions =>
  // maxInFlight 1 (testOptions): moto loses records under concurrent writes to one shard (see moto.ts).
  testOptions(`http://${address}`, stream, {
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    publishTimeoutMs: PUBLISH_TIMEOUT_MS,
    maxQueued: MAX_QUEUED,
    maxRecordsPerRequest: MAX_RECORDS,
    ...overrides,
  });

for (const ordering of ["none", "strict"] as const) {
  describeWireFaults({
    name: `kinesis (${ordering})`,
    upstream: new URL(endpoint).host,
    createPublisher: ({ address, logger }) => createKinesisPublisher({ ...options(address, { ordering }), logger }),
    createSubscriber: ({ address, logger }) => createKinesisSubscriber({ ...options(address, { ordering }), logger }),
    readBack: async (tenantId) => {
      const ids = (await readStream()).filter((e) => e.tenantid === tenantId).map((e) => e.id);
      // A figure, not an assertion: what a failed publish (CONNECTION_FAILED) may still have stored.
      console.info(`[kinesis wire] ${ordering} ${tenantId}: ${ids.length} records stored, ${new Set(ids).size} distinct events`);
      return ids;
    },
    // KINESIS_MAX_QUEUED waiting plus one request of KINESIS_MAX_RECORDS_PER_REQUEST in flight.
    pendingBound: MAX_QUEUED + MAX_RECORDS,
    publishTimeoutMs: PUBLISH_TIMEOUT_MS,
    faultMs: FAULT_MS,
    secrets: [SECRET],
    // Strict only in the black hole, where a request that never answers holds its keys until its
    // timeout frees them; the other scenarios exercise nothing strict does differently (reset and
    // lostAnswers fail a request at once, as in `none`), and each costs some 8 s of CI.
    ...(ordering === "strict" ? { scenarios: ["blackHole"] as const } : {}),
  });
}
