// Batched publishing (this package: PutRecords, up to 500 records a request) against one PutRecord
// per event with the raw SDK client, on the same stream of the same emulator, in the same run.
// Both sides keep 4 requests in flight. Also the raw client doing PutRecords by hand, to show what
// the package costs over hand-written batching. Needs AWS_ENDPOINT_URL (tooling/with-services.sh).
// BENCH_EVENTS (default 3000) events for the batched runs, BENCH_SINGLE_EVENTS (default 400) for the
// per-event run — moto pays a large fixed cost per request, so the per-event run stays short. (With
// several requests in flight moto can drop records — its put_record is not thread-safe — which does
// not change the timing; correctness is tested in test/integration with one request in flight.)

import { CreateStreamCommand, PutRecordCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { createEvent, serializeEvent, silentLogger } from "@kaireon/events-core";
import { createKinesisClient, createKinesisPublisher, kinesisOptions } from "../dist/index.js";

const endpoint = process.env.AWS_ENDPOINT_URL;
if (!endpoint) {
  console.error("AWS_ENDPOINT_URL is not set — run: bash tooling/with-services.sh pnpm --filter @kaireon/events-kinesis bench");
  process.exit(1);
}
const batchedCount = Number(process.env.BENCH_EVENTS ?? 3000);
const singleCount = Number(process.env.BENCH_SINGLE_EVENTS ?? 400);
const inFlight = 4;

const client = createKinesisClient({ endpoint });
const stream = `bench-${Date.now().toString(36)}`;
await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
await new Promise((r) => setTimeout(r, 300));

const payload = (i) => ({
  tenantId: "bench",
  customerId: `c${i % 100}`,
  recommendationId: `r${i}`,
  offersReturned: 3,
  topOfferId: "offer-1",
  topPropensity: 0.42,
  decisionFlowKey: "default-flow",
  timestamp: new Date().toISOString(),
});

async function pool(n, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

async function timed(name, n, run) {
  const start = process.hrtime.bigint();
  await run(n);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const rate = (n / ms) * 1000;
  console.log(`${name.padEnd(44)} ${String(n).padStart(6)} events ${ms.toFixed(0).padStart(7)} ms ${rate.toFixed(0).padStart(8)} events/s`);
  return rate;
}

const rawSingle = (n) =>
  pool(n, async (i) => {
    const event = createEvent("decision.made.v1", payload(i));
    await client.send(
      new PutRecordCommand({ StreamName: stream, PartitionKey: event.partitionkey, Data: new TextEncoder().encode(serializeEvent(event)) }),
    );
  });

const rawBatched = async (n) => {
  const records = Array.from({ length: n }, (_, i) => {
    const event = createEvent("decision.made.v1", payload(i));
    return { PartitionKey: event.partitionkey, Data: new TextEncoder().encode(serializeEvent(event)) };
  });
  const chunks = [];
  for (let i = 0; i < records.length; i += 500) chunks.push(records.slice(i, i + 500));
  await pool(chunks.length, (i) => client.send(new PutRecordsCommand({ StreamName: stream, Records: chunks[i] })));
};

const publisher = createKinesisPublisher({ ...kinesisOptions({ stream, endpoint, maxInFlight: inFlight }), logger: silentLogger });
const packaged = async (n) => {
  const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => publisher.publish("decision.made.v1", payload(i))));
  const failed = results.filter((r) => r.status === "rejected").length;
  if (failed) throw new Error(`${failed} publishes failed`);
};

// Warm up connections and the JIT on each path.
await rawSingle(20);
await rawBatched(100);
await packaged(100);

console.log(`kinesis bench against ${endpoint} (moto), stream ${stream}, ${inFlight} requests in flight\n`);
const single = await timed("raw client, one PutRecord per event", singleCount, rawSingle);
const raw = await timed("raw client, PutRecords of 500 by hand", batchedCount, rawBatched);
const ours = await timed("@kaireon/events-kinesis publish() (batched)", batchedCount, packaged);
console.log(`\nbatched publish / one PutRecord per event: ${(ours / single).toFixed(1)}x`);
console.log(`batched publish / hand-written PutRecords: ${(ours / raw).toFixed(2)}x`);

await publisher.close();
client.destroy();
