// The relay dead-letters by EventsError.retryable, not by a list of codes of its own: a failure that
// says the event itself is refused (retryable false) goes dead at once, one that may succeed later
// stays pending. The publisher is a fake on purpose: no real broker refuses one chosen event of a
// batch with a chosen `retryable` on demand.

import { createEvent, type DomainEvent, PublishError, type ReadinessReport, silentLogger } from "@kaireon/events-core";
import { type Delivery, PublisherBase } from "@kaireon/events-core/backend";
import { sampleInteraction } from "@kaireon/events-testkit";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createOutboxRelay, createSqliteOutbox, type OutboxRelay } from "../../src/index.js";
import { until } from "../support/outbox-suite.js";

class RefusingPublisher extends PublisherBase {
  attempts = new Map<string, number>();
  constructor(private readonly retryableOf: ReadonlyMap<string, boolean | undefined>) {
    super({ backend: "refusing", logger: silentLogger });
  }

  protected async deliver(event: DomainEvent): Promise<Delivery> {
    this.attempts.set(event.id, (this.attempts.get(event.id) ?? 0) + 1);
    if (!this.retryableOf.has(event.id)) return {};
    // PUBLISH_FAILED, a code the relay never dead-lettered by itself: only `retryable` decides here.
    throw new PublishError({ backend: "refusing", message: "[refusing] refused", retryable: this.retryableOf.get(event.id) });
  }

  async ready(): Promise<ReadinessReport> {
    return { ready: true, backend: "refusing" };
  }
}

describe("relay: dead or pending by EventsError.retryable", () => {
  let db: Database.Database | undefined;
  let relay: OutboxRelay | undefined;
  afterEach(async () => {
    await relay?.stop();
    db?.close();
  });

  it("a retryable=false failure goes dead at the first attempt; a retryable one, and an unknown one, stay pending", async () => {
    const event = (customerId: string) => createEvent("interaction.recorded.v1", sampleInteraction({ customerId })) as DomainEvent;
    const [refused, transient, unknown, fine] = [event("a"), event("b"), event("c"), event("d")];
    const publisher = new RefusingPublisher(
      new Map([
        [refused.id, false],
        [transient.id, true],
        [unknown.id, undefined],
      ]),
    );
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    db.transaction(() => store.enqueue(db!, [refused, transient, unknown, fine]))();
    relay = createOutboxRelay({
      store,
      publisher,
      batchSize: 10,
      maxAttempts: 1000,
      backoff: { baseMs: 1, maxMs: 5 },
      pollIntervalMs: 10,
      logger: silentLogger,
    });
    await relay.start();
    // Both pending events are tried again (a second attempt each) while the refused one is dead.
    await until(
      "a second attempt of each retryable event",
      () => (publisher.attempts.get(transient.id) ?? 0) >= 2 && (publisher.attempts.get(unknown.id) ?? 0) >= 2,
    );
    expect(publisher.attempts.get(refused.id)).toBe(1);
    expect(await store.stats()).toMatchObject({ backlog: 2, deadRows: 1 });
    expect(await relay.metrics()).toMatchObject({ dead: 1, sent: 1 });
  });
});
