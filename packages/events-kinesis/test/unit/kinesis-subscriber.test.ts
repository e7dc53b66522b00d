// The reader's shard logic, with aws-sdk-client-mock playing Kinesis. Resharding is mocked because
// moto 5.2.5 does not emulate it faithfully: after SplitShard it keeps writing new records into the
// closed parent (its shard lookup still matches the parent's hash range), and GetRecords on a closed
// shard never returns a null NextShardIterator, so "read the parent to its end" cannot happen there.

import {
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandInput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  KinesisClient,
  ListShardsCommand,
  type Shard,
} from "@aws-sdk/client-kinesis";
import { createEvent, type DomainEvent, serializeEvent, silentLogger } from "@kaireon/events-core";
import { createEventSpy, sampleDecision, sampleInteraction } from "@kaireon/events-testkit";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { createKinesisSubscriber, type KinesisSubscriber, kinesisOptions, MemoryCheckpointStore } from "../../src/index.js";

interface FakeShard {
  id: string;
  parent?: string;
  adjacent?: string;
  closed: boolean;
  records: string[];
}

function decision(key: string): DomainEvent {
  return createEvent("decision.made.v1", sampleDecision({ customerId: key.split("#")[0], recommendationId: key })) as DomainEvent;
}

/** A fake stream: shards can be changed while a subscription runs; `log` records the calls in order. */
function fakeKinesis(initial: FakeShard[]) {
  let shards = initial;
  const log: string[] = [];
  const client = new KinesisClient({ region: "us-east-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
  const mock = mockClient(client);
  const byId = (id: string) => shards.find((s) => s.id === id) as FakeShard;
  mock.on(ListShardsCommand).callsFake(async () => ({
    Shards: shards.map(
      (s): Shard => ({
        ShardId: s.id,
        ...(s.parent ? { ParentShardId: s.parent } : {}),
        ...(s.adjacent ? { AdjacentParentShardId: s.adjacent } : {}),
        HashKeyRange: { StartingHashKey: "0", EndingHashKey: "1" },
        SequenceNumberRange: { StartingSequenceNumber: "1", ...(s.closed ? { EndingSequenceNumber: String(s.records.length) } : {}) },
      }),
    ),
  }));
  mock.on(GetShardIteratorCommand).callsFake(async (input: GetShardIteratorCommandInput) => {
    const shard = byId(input.ShardId as string);
    log.push(`iterator ${shard.id} ${input.ShardIteratorType}${input.StartingSequenceNumber ? ` ${input.StartingSequenceNumber}` : ""}`);
    const start =
      input.ShardIteratorType === "LATEST"
        ? shard.records.length
        : input.ShardIteratorType === "AFTER_SEQUENCE_NUMBER"
          ? Number(input.StartingSequenceNumber)
          : 0;
    return { ShardIterator: `${shard.id}|${start}` };
  });
  mock.on(GetRecordsCommand).callsFake(async (input: GetRecordsCommandInput) => {
    const [id, at] = (input.ShardIterator as string).split("|") as [string, string];
    const shard = byId(id);
    const from = Number(at);
    const page = shard.records.slice(from, from + 2);
    if (page.length > 0) log.push(`records ${id} ${page.length}`);
    const next = from + page.length;
    const ended = shard.closed && page.length === 0;
    if (ended) log.push(`end ${id}`);
    return {
      Records: page.map((raw, i) => ({
        Data: new TextEncoder().encode(raw),
        PartitionKey: "k",
        SequenceNumber: String(from + i + 1),
        ApproximateArrivalTimestamp: new Date(),
      })),
      MillisBehindLatest: 0,
      ...(ended ? {} : { NextShardIterator: `${id}|${next}` }),
    };
  });
  return {
    client,
    log,
    setShards(next: FakeShard[]) {
      shards = next;
    },
  };
}

const open: KinesisSubscriber[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

function subscriber(client: KinesisClient, store = new MemoryCheckpointStore()) {
  const s = createKinesisSubscriber({
    ...kinesisOptions({ stream: "events", pollIntervalMs: 50 }),
    client,
    logger: silentLogger,
    checkpointStore: store,
    shardDiscoveryIntervalMs: 100,
  });
  open.push(s);
  return s;
}

const ids = (events: DomainEvent[]) => events.map((e) => e.data.recommendationId);

describe("kinesis reader: resharding (mocked — see the header)", () => {
  it("after a split, reads the closed parent to its end before either child", async () => {
    const [a1, a2, a3, b1] = ["a#1", "a#2", "a#3", "b#1"].map(decision) as [DomainEvent, DomainEvent, DomainEvent, DomainEvent];
    const fake = fakeKinesis([
      { id: "s0", closed: true, records: [a1, a2, b1].map(serializeEvent) },
      { id: "s1", parent: "s0", closed: false, records: [serializeEvent(a3)] },
      { id: "s2", parent: "s0", closed: false, records: [] },
    ]);
    const spy = createEventSpy();
    await subscriber(fake.client).subscribe(["decision.made.v1"], spy.handler, { from: "earliest", onError: spy.onError });
    await spy.waitForCount(4, undefined, 5000);
    expect(ids(spy.events)).toEqual(["a#1", "a#2", "b#1", "a#3"]);
    const end = fake.log.indexOf("end s0");
    expect(end).toBeGreaterThan(-1);
    expect(fake.log.indexOf("iterator s1 TRIM_HORIZON")).toBeGreaterThan(end);
    expect(fake.log.indexOf("iterator s2 TRIM_HORIZON")).toBeGreaterThan(end);
    expect(spy.errors).toEqual([]);
  });

  it("after a merge, the child waits for both parents", async () => {
    const fake = fakeKinesis([
      { id: "s1", closed: true, records: [serializeEvent(decision("a#1"))] },
      { id: "s2", closed: true, records: [serializeEvent(decision("b#1")), serializeEvent(decision("b#2"))] },
      {
        id: "s3",
        parent: "s1",
        adjacent: "s2",
        closed: false,
        records: [serializeEvent(decision("a#2")), serializeEvent(decision("b#3"))],
      },
    ]);
    const spy = createEventSpy();
    await subscriber(fake.client).subscribe(["decision.made.v1"], spy.handler, { from: "earliest", onError: spy.onError });
    await spy.waitForCount(5, undefined, 5000);
    const child = fake.log.indexOf("iterator s3 TRIM_HORIZON");
    expect(child).toBeGreaterThan(fake.log.indexOf("end s1"));
    expect(child).toBeGreaterThan(fake.log.indexOf("end s2"));
    expect(ids(spy.events).slice(3)).toEqual(["a#2", "b#3"]);
  });

  it("a reshard during a live subscription: the rest of the parent first, then the new child from its start", async () => {
    const a1 = serializeEvent(decision("a#1"));
    const fake = fakeKinesis([{ id: "s0", closed: false, records: [a1] }]);
    const spy = createEventSpy();
    await subscriber(fake.client).subscribe(["decision.made.v1"], spy.handler, { onError: spy.onError });
    expect(fake.log).toEqual(["iterator s0 LATEST"]);
    // Split: two more records reach s0 before it closes; the child gets the next one.
    fake.setShards([
      { id: "s0", closed: true, records: [a1, serializeEvent(decision("a#2")), serializeEvent(decision("a#3"))] },
      { id: "s1", parent: "s0", closed: false, records: [serializeEvent(decision("a#4"))] },
    ]);
    await spy.waitForCount(3, undefined, 5000);
    expect(ids(spy.events)).toEqual(["a#2", "a#3", "a#4"]);
    expect(fake.log.indexOf("iterator s1 TRIM_HORIZON")).toBeGreaterThan(fake.log.indexOf("end s0"));
  });

  it("from latest: a closed shard is not read; its open children start at LATEST", async () => {
    const fake = fakeKinesis([
      { id: "s0", closed: true, records: [serializeEvent(decision("a#1"))] },
      { id: "s1", parent: "s0", closed: false, records: [serializeEvent(decision("a#2"))] },
    ]);
    await subscriber(fake.client).subscribe(["decision.made.v1"], () => {});
    expect(fake.log).toEqual(["iterator s1 LATEST"]);
  });
});

describe("kinesis reader: records and checkpoints", () => {
  it("reports malformed records with their raw text, skips other topics, survives a throwing handler", async () => {
    const good = [decision("a#1"), decision("a#2")];
    const other = createEvent("interaction.recorded.v1", sampleInteraction());
    const fake = fakeKinesis([
      {
        id: "s0",
        closed: false,
        records: [
          "{broken json",
          serializeEvent(good[0] as DomainEvent),
          serializeEvent(other),
          '{"type":"nope.v1"}',
          serializeEvent(good[1] as DomainEvent),
        ],
      },
    ]);
    const spy = createEventSpy();
    let calls = 0;
    await subscriber(fake.client).subscribe(
      ["decision.made.v1"],
      (event, context) => {
        calls++;
        if (calls === 1) throw new Error("boom");
        return spy.handler(event, context);
      },
      { from: "earliest", onError: spy.onError, handlerAttempts: 1 },
    );
    await spy.waitForCount(1, undefined, 5000);
    const errors = await spy.waitForErrors(3, 5000);
    expect(ids(spy.events)).toEqual(["a#2"]);
    expect(errors.map((e) => e.error.code)).toEqual(["MALFORMED_MESSAGE", "HANDLER_FAILED", "UNKNOWN_TOPIC"]);
    expect(errors[0]?.raw).toBe("{broken json");
    expect(errors[0]?.context?.position).toBe("s0:1");
    expect(errors[2]?.raw).toBe('{"type":"nope.v1"}');
  });

  it("checkpoints each page and resumes after the last sequence number for the same group", async () => {
    const records = ["a#1", "a#2", "a#3"].map((k) => serializeEvent(decision(k)));
    const fake = fakeKinesis([{ id: "s0", closed: false, records }]);
    const store = new MemoryCheckpointStore();
    const first = createEventSpy();
    const s = subscriber(fake.client, store);
    const sub = await s.subscribe(["decision.made.v1"], first.handler, { from: "earliest", group: "g" });
    await first.waitForCount(3, undefined, 5000);
    await sub.close();
    expect(await store.load({ group: "g", stream: "events", shardId: "s0" })).toEqual({ sequenceNumber: "3" });
    records.push(serializeEvent(decision("a#4")));
    const second = createEventSpy();
    await s.subscribe(["decision.made.v1"], second.handler, { from: "earliest", group: "g" });
    await second.waitForCount(1, undefined, 5000);
    expect(ids(second.events)).toEqual(["a#4"]);
    expect(fake.log).toContain("iterator s0 AFTER_SEQUENCE_NUMBER 3");
  });

  it("subscribe fails with a coded error when the stream does not exist", async () => {
    const client = new KinesisClient({ region: "us-east-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
    mockClient(client)
      .on(ListShardsCommand)
      .rejects(Object.assign(new Error("Stream events under account 1 not found."), { name: "ResourceNotFoundException" }));
    const error = await subscriber(client)
      .subscribe(["decision.made.v1"], () => {})
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PUBLISH_FAILED", backend: "kinesis" });
    expect((error as Error).message).toContain("KINESIS_STREAM");
  });
});

describe("kinesis reader: an expired iterator (mocked: moto cannot expire one)", () => {
  // moto 5.2.5's shard iterators are base64("stream:shard:sequence") with no time in them
  // (moto/kinesis/utils.py compose_shard_iterator) and it has no ExpiredIteratorException at all, so
  // the five-minute expiry after a long outage can only be played by aws-sdk-client-mock.
  function expiringKinesis() {
    const records: { raw: string; at: number }[] = [];
    const log: string[] = [];
    let generation = 0;
    const client = new KinesisClient({ region: "us-east-1", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
    const mock = mockClient(client);
    mock.on(ListShardsCommand).resolves({
      Shards: [
        { ShardId: "s0", HashKeyRange: { StartingHashKey: "0", EndingHashKey: "1" }, SequenceNumberRange: { StartingSequenceNumber: "1" } },
      ],
    });
    mock.on(GetShardIteratorCommand).callsFake(async (input: GetShardIteratorCommandInput) => {
      const type = input.ShardIteratorType;
      log.push(`iterator ${type}${input.StartingSequenceNumber ? ` ${input.StartingSequenceNumber}` : ""}`);
      const at = input.Timestamp ? new Date(input.Timestamp).getTime() : 0;
      const start =
        type === "LATEST"
          ? records.length
          : type === "AFTER_SEQUENCE_NUMBER"
            ? Number(input.StartingSequenceNumber)
            : type === "AT_TIMESTAMP"
              ? records.filter((r) => r.at < at).length
              : 0;
      return { ShardIterator: `${generation}|${start}` };
    });
    mock.on(GetRecordsCommand).callsFake(async (input: GetRecordsCommandInput) => {
      const [issued, from] = (input.ShardIterator as string).split("|").map(Number) as [number, number];
      if (issued < generation) throw new ExpiredIteratorException({ message: "Iterator expired", $metadata: {} });
      const page = records.slice(from, from + 10);
      return {
        Records: page.map((r, i) => ({
          Data: new TextEncoder().encode(r.raw),
          PartitionKey: "k",
          SequenceNumber: String(from + i + 1),
          ApproximateArrivalTimestamp: new Date(r.at),
        })),
        MillisBehindLatest: 0,
        NextShardIterator: `${generation}|${from + page.length}`,
      };
    });
    return {
      client,
      log,
      /** Every iterator handed out so far expires (as after five minutes without a successful GetRecords). */
      expire() {
        generation++;
      },
      put(event: DomainEvent) {
        records.push({ raw: serializeEvent(event), at: Date.now() });
      },
    };
  }

  it("from latest with nothing read yet: records written while the iterator expired are delivered, not skipped", async () => {
    const fake = expiringKinesis();
    const spy = createEventSpy();
    await subscriber(fake.client).subscribe(["decision.made.v1"], spy.handler, { onError: spy.onError });
    await new Promise((r) => setTimeout(r, 200)); // a few empty polls: caught up, nothing read
    fake.expire();
    for (const key of ["a#1", "a#2", "a#3"]) fake.put(decision(key));
    await spy.waitForCount(3, undefined, 5000);
    expect(ids(spy.events)).toEqual(["a#1", "a#2", "a#3"]);
    expect(fake.log[0]).toBe("iterator LATEST");
    expect(fake.log[1]).toBe("iterator AT_TIMESTAMP");

    // Once something was read, an expiry resumes after its sequence number: nothing twice, nothing lost.
    fake.expire();
    fake.put(decision("a#4"));
    await spy.waitForCount(4, undefined, 5000);
    expect(ids(spy.events)).toEqual(["a#1", "a#2", "a#3", "a#4"]);
    expect(fake.log).toContain("iterator AFTER_SEQUENCE_NUMBER 3");
    expect(spy.errors).toEqual([]);
  });
});
