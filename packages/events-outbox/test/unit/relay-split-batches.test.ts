// Order per key when one relay batch becomes several backend requests (Kinesis strict, Kafka split by
// bytes): the real relay and a real SQLite store, publishing through a publisher built the way every
// batching backend is built — core's PublisherBase + Batcher — with a small request size.
//
// The transport is a fake on purpose: no real broker fails one chosen request of a batch on demand
// (an outage fails them all, or none), and that single failed request followed by a successful one
// carrying a later event of the same key is exactly the case that broke order. The in-memory backend
// of the shared outbox suite settles a whole batch at once, so it cannot produce it either.

import { createEvent, type DomainEvent, type ReadinessReport, silentLogger } from "@kaireon/events-core";
import { type Batcher, type Delivery, PublisherBase } from "@kaireon/events-core/backend";
import { sampleInteraction } from "@kaireon/events-testkit";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createOutboxRelay, createSqliteOutbox, type OutboxRelay } from "../../src/index.js";
import { assertOrderPerKey, until } from "../support/outbox-suite.js";

/** A batching publisher over a fake transport: requests of `requestSize`, the chosen ones fail once. */
class SplittingPublisher extends PublisherBase {
  readonly delivered: DomainEvent[] = [];
  requests = 0;
  private readonly batcher: Batcher<DomainEvent, Delivery>;

  constructor(
    private readonly failRequests: ReadonlySet<number>,
    batcher: { requestSize: number; maxInFlight: number; oneItemPerKey?: boolean },
  ) {
    super({ backend: "split", logger: silentLogger });
    this.batcher = this.useBatcher<DomainEvent, Delivery>({
      backend: "split",
      send: (events) => this.request(events),
      maxBatchSize: batcher.requestSize,
      maxInFlight: batcher.maxInFlight,
      // What a backend that promises per-key order sets (Kinesis strict does; Kafka should).
      orderKey: (event) => event.partitionkey,
      oneItemPerKey: batcher.oneItemPerKey ?? false,
      lingerMs: 0,
      maxQueued: 10_000,
      timeoutMs: 5_000,
    });
  }

  protected deliver(event: DomainEvent): Promise<Delivery> {
    return this.batcher.add(event);
  }

  private async request(events: DomainEvent[]): Promise<Array<{ ok: true; value: Delivery }>> {
    const n = ++this.requests;
    // A round trip: the next request of the same relay batch is formed meanwhile.
    await new Promise((r) => setTimeout(r, 2));
    if (this.failRequests.has(n)) throw new Error(`request ${n} failed (connection reset)`);
    this.delivered.push(...events);
    return events.map(() => ({ ok: true as const, value: {} }));
  }

  async ready(): Promise<ReadinessReport> {
    return { ready: true, backend: "split" };
  }
}

describe("relay over a publisher that splits a batch into several requests", () => {
  let db: Database.Database | undefined;
  let relay: OutboxRelay | undefined;
  afterEach(async () => {
    await relay?.stop();
    db?.close();
  });

  async function run(publisher: SplittingPublisher, events: DomainEvent[]) {
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    db.transaction(() => store.enqueue(db!, events))();
    relay = createOutboxRelay({
      store,
      publisher,
      batchSize: 20,
      backoff: { baseMs: 1, maxMs: 5 },
      pollIntervalMs: 20,
      logger: silentLogger,
    });
    await relay.start();
    await until("an empty backlog", async () => (await store.stats()).backlog === 0);
    expect(new Set(publisher.delivered.map((e) => e.id)).size).toBe(events.length);
    assertOrderPerKey(events, publisher.delivered);
    expect((await relay.metrics()).dead).toBe(0);
  }

  const keyed = (n: number, keys: number) =>
    Array.from(
      { length: n },
      (_, i) => createEvent("interaction.recorded.v1", sampleInteraction({ customerId: `c-${i % keys}` })) as DomainEvent,
    );

  it("one request in flight: the first request fails once, later events of its keys are not delivered ahead of the retry", async () => {
    // 20 rows of 3 keys in one relay batch → requests of 4; request 1 fails once.
    await run(new SplittingPublisher(new Set([1]), { requestSize: 4, maxInFlight: 1 }), keyed(20, 3));
  });

  it("several requests in flight, one item per key (Kinesis strict): a failed request does not let a key's next event overtake it", async () => {
    await run(new SplittingPublisher(new Set([1, 3]), { requestSize: 3, maxInFlight: 3, oneItemPerKey: true }), keyed(20, 4));
  });
});
