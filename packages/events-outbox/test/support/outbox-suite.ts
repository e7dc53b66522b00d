// The behaviour every outbox store must show, run against each real store: SQLite in-process (unit
// tests) and PostgreSQL (integration tests, the real server). The broker is core's in-memory backend;
// an outage is MemoryBus.setOutage (the real Redis/Kafka backends are exercised by their own packages).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createEvent,
  type DomainEvent,
  EventsError,
  loadPublisher,
  MemoryBus,
  type MemoryOptions,
  MemoryPublisher,
  type Publisher,
  type PublishResult,
  silentLogger,
  topicNames,
} from "@kaireon/events-core";
import { sampleInteraction } from "@kaireon/events-testkit";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions, type OutboxStore, stopOnSignals } from "../../src/index.js";

export interface StoredRow {
  eventId: string;
  status: string;
  attempts: number;
  lastError: string | null;
  partitionKey: string;
}

export type TxStep = { enqueue: DomainEvent | DomainEvent[] } | { order: string };

export interface StoreHarness {
  store: OutboxStore;
  /** Runs the steps in one transaction of the app; rolls back instead of committing when asked. */
  transaction(steps: TxStep[], options?: { rollback?: boolean }): Promise<void>;
  rows(): Promise<StoredRow[]>;
  orders(): Promise<string[]>;
  /** Overwrites a stored row's payload, as a hand edit or a bad migration would. */
  setPayload(eventId: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A test's SQLite connections, closed (and their folders removed) by close(): `file()` names a fresh
 * database file in a folder of its own, `open(file)` connects to it in WAL mode (several connections
 * on one file, as two processes would be), `open()` a database in memory.
 */
export function sqliteConnections() {
  const dbs: Database.Database[] = [];
  const dirs: string[] = [];
  return {
    file(): string {
      const dir = mkdtempSync(join(tmpdir(), "kaireon-outbox-"));
      dirs.push(dir);
      return join(dir, "app.sqlite");
    },
    open(file?: string): Database.Database {
      const db = new Database(file ?? ":memory:");
      if (file !== undefined) db.pragma("journal_mode = WAL");
      dbs.push(db);
      return db;
    },
    close(): void {
      for (const db of dbs.splice(0)) db.close();
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function makeEvent(customerId = "cust-1", tenantId = "tenant-1"): DomainEvent {
  return createEvent("interaction.recorded.v1", sampleInteraction({ customerId, tenantId })) as DomainEvent;
}

/**
 * A relay over `store` publishing to an in-memory broker of its own; what reached the broker is
 * pushed to `delivered`, in order. `options`: the relay's other options (retention is off unless set).
 */
export function memoryRelay(store: OutboxStore, delivered: DomainEvent[], options: Partial<OutboxRelayOptions> = {}): OutboxRelay {
  const bus = new MemoryBus(0);
  recordInto(bus, delivered);
  return createOutboxRelay({
    store,
    publisher: new MemoryPublisher({ bus, logger: silentLogger }),
    logger: silentLogger,
    retention: false,
    ...options,
  });
}

/** Records what reached the in-memory broker, in order. */
export function recordBus(bus: MemoryBus): DomainEvent[] {
  return recordInto(bus, []);
}

function recordInto(bus: MemoryBus, delivered: DomainEvent[]): DomainEvent[] {
  bus.attach({ topics: new Set(topicNames), deliver: (event) => delivered.push(event) }, "latest");
  return delivered;
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A publisher whose publishBatch waits for `release()` — to catch a relay in the middle of a batch. */
export class GatedPublisher {
  readonly inner: Publisher;
  calls = 0;
  private gate: { promise: Promise<void>; open: () => void } | undefined;
  constructor(inner: Publisher) {
    this.inner = inner;
  }
  hold() {
    let open!: () => void;
    const promise = new Promise<void>((r) => {
      open = r;
    });
    this.gate = { promise, open };
  }
  release() {
    this.gate?.open();
    this.gate = undefined;
  }
  asPublisher(): Publisher {
    return new Proxy(this.inner, {
      get: (target, prop, receiver) => {
        if (prop === "publishBatch") {
          return async (events: readonly DomainEvent[]): Promise<PromiseSettledResult<PublishResult>[]> => {
            this.calls++;
            if (this.gate) await this.gate.promise;
            return target.publishBatch(events);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
  }
}

export function describeOutboxStore(name: string, open: () => Promise<StoreHarness>) {
  describe(`${name} outbox`, () => {
    let h: StoreHarness;
    let bus: MemoryBus;
    let publisher: MemoryPublisher;
    let delivered: DomainEvent[];
    const relays: OutboxRelay[] = [];

    const relay = (options: Partial<OutboxRelayOptions> = {}) => {
      const r = createOutboxRelay({ store: h.store, publisher, logger: silentLogger, pollIntervalMs: 50, ...options });
      relays.push(r);
      return r;
    };

    beforeEach(async () => {
      h = await open();
      await h.store.migrate();
      await h.store.migrate(); // idempotent
      bus = new MemoryBus(0);
      publisher = new MemoryPublisher({ bus, logger: silentLogger });
      delivered = recordBus(bus);
    });

    afterEach(async () => {
      await Promise.all(relays.splice(0).map((r) => r.stop()));
      await h.close();
    });

    it("a rolled-back transaction publishes nothing and leaves no row", async () => {
      const r = relay();
      await r.start();
      const event = makeEvent();
      await h.transaction([{ order: "o-1" }, { enqueue: event }], { rollback: true });
      const committed = makeEvent();
      await h.transaction([{ order: "o-2" }, { enqueue: committed }]);
      await until("the committed event", () => delivered.length >= 1);
      await r.stop();
      expect(delivered.map((e) => e.id)).toEqual([committed.id]);
      expect(await h.orders()).toEqual(["o-2"]);
      expect((await h.rows()).map((row) => row.eventId)).toEqual([committed.id]);
    });

    it("a committed transaction publishes exactly its events, with their ids, once", async () => {
      const r = relay({ batchSize: 7 });
      await r.start();
      const events = Array.from({ length: 25 }, (_, i) => makeEvent(`c-${i % 4}`));
      await h.transaction([{ order: "o-1" }, { enqueue: events.slice(0, 10) }, { enqueue: events.slice(10) }]);
      await until("25 events", () => delivered.length >= 25);
      await r.stop();
      expect(delivered.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
      expect(delivered[0]).toEqual(events.find((e) => e.id === delivered[0]?.id));
      const rows = await h.rows();
      expect(rows.every((row) => row.status === "sent" && row.attempts === 1)).toBe(true);
      expect((await r.metrics()).sent).toBe(25);
    });

    it("an invalid event fails the caller's transaction before anything is written", async () => {
      const bad = { ...makeEvent(), data: { customerId: "" } } as unknown as DomainEvent;
      await expect(h.transaction([{ order: "o-1" }, { enqueue: bad }])).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
      expect(await h.orders()).toEqual([]);
      expect(await h.rows()).toEqual([]);
    });

    it("nextDueInMs: undefined when nothing is pending (an idle relay sleeps), 0 while a row can go", async () => {
      expect(await h.store.nextDueInMs()).toBeUndefined();
      await h.transaction([{ enqueue: makeEvent() }]);
      expect(await h.store.nextDueInMs()).toBe(0);
      const r = relay();
      expect(await r.runOnce()).toBe(1);
      expect(await h.store.nextDueInMs()).toBeUndefined();
    });

    it("wakes on enqueue instead of waiting for the poll interval", async () => {
      const r = relay({ pollIntervalMs: 600_000 });
      await r.start();
      await new Promise((res) => setTimeout(res, 100)); // the relay is asleep now
      const event = makeEvent();
      await h.transaction([{ enqueue: event }]);
      await until("the event", () => delivered.length === 1, 10_000);
      expect(delivered[0]?.id).toBe(event.id);
    });

    it("lingerMs: an idle relay sends each new row at once, however long the linger", async () => {
      // A linger far longer than any deadline below: a relay that waited it would fail them all.
      const r = relay({ pollIntervalMs: 600_000, lingerMs: 60_000 });
      await r.start();
      await new Promise((res) => setTimeout(res, 100)); // the relay is asleep now
      for (let i = 1; i <= 3; i++) {
        await h.transaction([{ enqueue: makeEvent(`c-${i}`) }]);
        await until(`lone event ${i}, without the linger`, () => delivered.length === i, 20_000);
        await new Promise((res) => setTimeout(res, 50)); // idle again
      }
      expect((await r.metrics()).batches).toBe(3);
    });

    it("lingerMs: rows committed while a batch is out go together in the next one", async () => {
      const gated = new GatedPublisher(publisher);
      const r = relay({ publisher: gated.asPublisher(), pollIntervalMs: 600_000, lingerMs: 100 });
      await r.start();
      await new Promise((res) => setTimeout(res, 100));
      gated.hold();
      await h.transaction([{ enqueue: makeEvent("c-0") }]);
      await until("the first batch in flight", () => gated.calls === 1, 20_000);
      const burst = Array.from({ length: 5 }, (_, i) => makeEvent(`c-${i + 1}`));
      for (const event of burst) await h.transaction([{ enqueue: event }]);
      gated.release();
      await until("6 events", () => delivered.length === 6, 20_000);
      // The row caught in flight, then the five committed meanwhile as one batch.
      expect((await r.metrics()).batches).toBe(2);
      expect(
        delivered
          .slice(1)
          .map((e) => e.id)
          .sort(),
      ).toEqual(burst.map((e) => e.id).sort());
    });

    it("broker outage: 10,000 events enqueued while it is down are all delivered after it returns", async () => {
      bus.setOutage(true);
      const r = relay({ batchSize: 500, backoff: { baseMs: 5, maxMs: 100 }, maxAttempts: 1_000_000 });
      await r.start();
      const events = Array.from({ length: 10_000 }, (_, i) => makeEvent(`cust-${i % 50}`));
      for (let i = 0; i < events.length; i += 1000) await h.transaction([{ enqueue: events.slice(i, i + 1000) }]);
      await until("retries during the outage", async () => (await r.metrics()).retried >= 50);
      expect(delivered).toHaveLength(0);
      expect((await r.metrics()).backlog).toBe(10_000);
      bus.setOutage(false);
      await until("an empty backlog", async () => (await h.store.stats()).backlog === 0, 240_000);
      await r.stop();

      const ids = delivered.map((e) => e.id);
      const unique = new Set(ids);
      const missing = events.filter((e) => !unique.has(e.id));
      expect(missing).toHaveLength(0);
      // The in-memory broker rejects whole sends during the outage, so nothing was delivered twice.
      expect(ids.length).toBe(unique.size);
      const rows = await h.rows();
      expect(rows.every((row) => row.status === "sent")).toBe(true);
      expect(rows.some((row) => row.attempts > 1)).toBe(true);
      // Order per key held across the retries.
      assertOrderPerKey(events, delivered);
    }, 300_000);

    it("a send that reached the broker but was not confirmed is retried: duplicates only for retried rows", async () => {
      // Mock on purpose: a lost acknowledgement (delivered, then reported failed) is what no real
      // healthy broker produces on demand; it is the case that creates at-least-once duplicates.
      let lose = 3;
      const lossy: Publisher = new Proxy(publisher, {
        get(target, prop, receiver) {
          if (prop !== "publishBatch") return Reflect.get(target, prop, receiver);
          return async (events: readonly DomainEvent[]) => {
            const results = await target.publishBatch(events);
            if (lose-- > 0) return results.map(() => ({ status: "rejected", reason: new Error("ack lost") }));
            return results;
          };
        },
      });
      const r = relay({ publisher: lossy, batchSize: 10, backoff: { baseMs: 1, maxMs: 5 } });
      const events = Array.from({ length: 100 }, (_, i) => makeEvent(`k-${i % 7}`));
      await h.transaction([{ enqueue: events }]);
      await r.start();
      await until("an empty backlog", async () => (await h.store.stats()).backlog === 0);
      await r.stop();
      const rows = await h.rows();
      const retried = new Set(rows.filter((row) => row.attempts > 1).map((row) => row.eventId));
      const seen = new Map<string, number>();
      for (const e of delivered) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
      expect(events.every((e) => seen.has(e.id))).toBe(true);
      const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
      expect(duplicated.length).toBeGreaterThan(0);
      for (const id of duplicated) expect(retried.has(id)).toBe(true);
    });

    it("parks an event as dead after maxAttempts with its last error, and its key moves on", async () => {
      bus.setOutage(true);
      const r = relay({ maxAttempts: 3, backoff: { baseMs: 1, maxMs: 2 } });
      const poisoned = makeEvent("poison");
      await h.transaction([{ enqueue: poisoned }]);
      await r.start();
      await until("a dead row", async () => (await h.store.stats()).deadRows === 1);
      const dead = (await h.rows()).find((row) => row.eventId === poisoned.id);
      expect(dead).toMatchObject({ status: "dead", attempts: 3 });
      expect(dead?.lastError).toMatch(/CONNECTION_FAILED.*simulated outage/);
      const m = await r.metrics();
      expect(m).toMatchObject({ dead: 1, retried: 2, deadRows: 1, backlog: 0 });

      bus.setOutage(false);
      const later = makeEvent("poison");
      await h.transaction([{ enqueue: later }]);
      await until("the later event of the same key", () => delivered.some((e) => e.id === later.id));
      expect(delivered.some((e) => e.id === poisoned.id)).toBe(false);
      expect(await h.store.requeueDead([poisoned.id])).toBe(1);
      r.notify();
      await until("the requeued event", () => delivered.some((e) => e.id === poisoned.id));
    });

    it("parks an event the broker refuses for itself (EVENT_TOO_LARGE) at once, without retrying", async () => {
      // Mock on purpose: the in-memory backend has no size limit; Kafka/Kinesis refuse oversized records like this.
      const tooLarge = makeEvent("big");
      const refusing: Publisher = new Proxy(publisher, {
        get(target, prop, receiver) {
          if (prop !== "publishBatch") return Reflect.get(target, prop, receiver);
          return async (events: readonly DomainEvent[]) => {
            const results = await target.publishBatch(events.filter((e) => e.id !== tooLarge.id));
            return events.map((e) =>
              e.id === tooLarge.id
                ? {
                    status: "rejected",
                    reason: new EventsError({ code: "EVENT_TOO_LARGE", backend: "memory", message: "[memory] too large" }),
                  }
                : results.shift(),
            );
          };
        },
      });
      const r = relay({ publisher: refusing, maxAttempts: 50 });
      const ok = makeEvent("small");
      await h.transaction([{ enqueue: [tooLarge, ok] }]);
      await r.start();
      await until("a dead row", async () => (await h.store.stats()).deadRows === 1);
      expect((await h.rows()).find((row) => row.eventId === tooLarge.id)).toMatchObject({ status: "dead", attempts: 1 });
      await until("the other event", () => delivered.some((e) => e.id === ok.id));
      expect((await r.metrics()).retried).toBe(0);
    });

    it("a closed publisher counts no attempt: rows wait untouched for a working one", async () => {
      await publisher.close();
      const r = relay({ maxAttempts: 1 });
      const event = makeEvent();
      await h.transaction([{ enqueue: event }]);
      await expect(r.runOnce()).rejects.toMatchObject({ code: "PUBLISHER_CLOSED" });
      expect(await h.rows()).toMatchObject([{ eventId: event.id, status: "pending", attempts: 0 }]);
    });

    it("refuses a disabled publisher (REDIS_URL blank): start() and runOnce() throw, nothing is sent or marked sent", async () => {
      // As a new user would: EVENT_PUBLISHER=redis with a blank REDIS_URL gives core's disabled publisher.
      const disabled = await loadPublisher({ EVENT_PUBLISHER: "redis", REDIS_URL: " " }, { logger: silentLogger });
      expect((await disabled.ready()).disabled).toBe(true);
      const r = relay({ publisher: disabled });
      await h.transaction([{ enqueue: Array.from({ length: 10 }, (_, i) => makeEvent(`d-${i % 3}`)) }]);
      const refusal = {
        name: "ConfigError",
        code: "CONFIG_INVALID",
        details: { reason: "publisher-disabled" },
        message: expect.stringMatching(/^\[outbox\] .*redis.*REDIS_URL is not set.*/),
      };
      await expect(r.start()).rejects.toMatchObject(refusal);
      await expect(r.runOnce()).rejects.toMatchObject(refusal);
      const rows = await h.rows();
      expect(rows).toHaveLength(10);
      expect(rows.every((row) => row.status === "pending" && row.attempts === 0)).toBe(true);
      expect(await r.metrics()).toMatchObject({ sent: 0, backlog: 10, running: false, publisherDisabled: true });
      expect(disabled.metrics().disabled).toBe(0);
    });

    it("a publish result other than `published` is never counted sent: the row stays pending, metrics say so", async () => {
      // Mock on purpose: a publisher whose ready() did not say it is disabled but whose results do (a
      // wrapper, or a stream switched off after start) — the defence behind the start-up check.
      const half: Publisher = new Proxy(publisher, {
        get(target, prop, receiver) {
          if (prop !== "publishBatch") return Reflect.get(target, prop, receiver);
          return async (events: readonly DomainEvent[]) =>
            events.map((e, i) =>
              i % 2 === 0
                ? { status: "fulfilled", value: { id: e.id, type: e.type, backend: "memory", status: "disabled" } }
                : { status: "fulfilled", value: { id: e.id, type: e.type, backend: "memory", status: "published" } },
            );
        },
      });
      const r = relay({ publisher: half });
      const events = Array.from({ length: 10 }, (_, i) => makeEvent(`n-${i}`));
      await h.transaction([{ enqueue: events }]);
      await r.runOnce();
      const rows = await h.rows();
      for (const [i, row] of rows.entries()) {
        if (i % 2 === 0) expect(row).toMatchObject({ status: "pending", attempts: 0 });
      }
      const m = await r.metrics();
      expect(m.sent).toBeLessThanOrEqual(5);
      expect(m).toMatchObject({ notSent: 5, publisherDisabled: true });
      expect(m.backlog).toBeGreaterThanOrEqual(5);
    });

    it("a malformed row (JSON, not an event) goes dead alone; the rest of its batch is sent", async () => {
      // Like Kinesis (kinesisPartitionKey) or EventBridge, this backend reads envelope fields
      // synchronously in deliver; the in-memory one does not, so it stands for them.
      class FieldReadingPublisher extends MemoryPublisher {
        constructor(options: MemoryOptions) {
          super(options);
        }
        protected override deliver(event: DomainEvent) {
          if (event.partitionkey.length === 0) throw new Error("empty key");
          return super.deliver(event);
        }
      }
      const r = relay({ publisher: new FieldReadingPublisher({ bus, logger: silentLogger }) });
      const events = Array.from({ length: 10 }, (_, i) => makeEvent(`m-${i}`));
      await h.transaction([{ enqueue: events }]);
      const bad = events[4] as DomainEvent;
      await h.setPayload(bad.id, JSON.stringify({ specversion: "1.0", id: bad.id, hello: "world" }));
      expect(await r.runOnce()).toBe(10);
      const rows = await h.rows();
      expect(rows.find((row) => row.eventId === bad.id)).toMatchObject({ status: "dead", attempts: 1 });
      expect(rows.find((row) => row.eventId === bad.id)?.lastError).toMatch(/unreadable payload: (UNKNOWN_TOPIC|VALIDATION_FAILED)/);
      expect(rows.filter((row) => row.status === "sent")).toHaveLength(9);
      expect(delivered.map((e) => e.id)).toEqual(events.filter((e) => e !== bad).map((e) => e.id));
    });

    it("a publishBatch that throws synchronously on one event fails that event alone, up to dead", async () => {
      // Mock on purpose: a backend bug (a synchronous TypeError) on one well-formed event is what no
      // real broker produces on demand.
      const cursed = makeEvent("cursed");
      const throwing: Publisher = new Proxy(publisher, {
        get(target, prop, receiver) {
          if (prop !== "publishBatch") return Reflect.get(target, prop, receiver);
          return (events: readonly DomainEvent[]) => {
            if (events.some((e) => e.id === cursed.id)) throw new TypeError("Cannot read properties of undefined");
            return target.publishBatch(events);
          };
        },
      });
      const r = relay({ publisher: throwing, maxAttempts: 2, backoff: { baseMs: 1, maxMs: 1 } });
      const events = [makeEvent("a"), makeEvent("b"), cursed, makeEvent("c")];
      await h.transaction([{ enqueue: events }]);
      expect(await r.runOnce()).toBe(4);
      const rows = await h.rows();
      expect(rows.find((row) => row.eventId === cursed.id)).toMatchObject({ status: "pending", attempts: 1 });
      expect(rows.find((row) => row.eventId === cursed.id)?.lastError).toMatch(/TypeError/);
      expect(rows.filter((row) => row.status === "sent")).toHaveLength(3);
      expect(delivered.map((e) => e.id).sort()).toEqual(
        events
          .filter((e) => e !== cursed)
          .map((e) => e.id)
          .sort(),
      );
      // Alone in its batch next time, it still counts attempts and goes dead: no batch claimed for ever.
      await new Promise((res) => setTimeout(res, 10));
      expect(await r.runOnce()).toBe(1);
      expect((await h.rows()).find((row) => row.eventId === cursed.id)).toMatchObject({ status: "dead", attempts: 2 });
    });

    it("keeps order per key when sends fail and are retried", async () => {
      const r = relay({ batchSize: 13, backoff: { baseMs: 1, maxMs: 10 } });
      await r.start();
      const events = Array.from({ length: 600 }, (_, i) => makeEvent(`key-${(i * 7) % 11}`));
      let flip = 0;
      const flapping = setInterval(() => bus.setOutage(flip++ % 2 === 0), 7);
      try {
        for (let i = 0; i < events.length; i += 60) await h.transaction([{ enqueue: events.slice(i, i + 60) }]);
        await new Promise((res) => setTimeout(res, 200));
      } finally {
        clearInterval(flapping);
        bus.setOutage(false);
      }
      await until("an empty backlog", async () => (await h.store.stats()).backlog === 0);
      expect(new Set(delivered.map((e) => e.id)).size).toBe(600);
      assertOrderPerKey(events, delivered);
    });

    it("stop() finishes the in-flight batch, then resolves; nothing is sent after", async () => {
      const gated = new GatedPublisher(publisher);
      gated.hold();
      const r = relay({ publisher: gated.asPublisher(), batchSize: 10 });
      const events = Array.from({ length: 35 }, (_, i) => makeEvent(`s-${i % 3}`));
      await h.transaction([{ enqueue: events }]);
      await r.start();
      await until("a batch in flight", () => gated.calls === 1);
      let stopped = false;
      const stopping = r.stop().then(() => {
        stopped = true;
      });
      await new Promise((res) => setTimeout(res, 50));
      expect(stopped).toBe(false);
      gated.release();
      await stopping;
      expect(gated.calls).toBe(1);
      expect(delivered).toHaveLength(10);
      const rows = await h.rows();
      expect(rows.filter((row) => row.status === "sent").map((row) => row.eventId)).toEqual(delivered.map((e) => e.id));
      expect(rows.filter((row) => row.status === "pending")).toHaveLength(25);
      expect((await r.metrics()).running).toBe(false);
    });

    it("SIGTERM stops the relay after its in-flight batch (stopOnSignals)", async () => {
      const gated = new GatedPublisher(publisher);
      gated.hold();
      const r = relay({ publisher: gated.asPublisher(), batchSize: 5, stopOnSignals: ["SIGTERM"] });
      await h.transaction([{ enqueue: Array.from({ length: 12 }, () => makeEvent()) }]);
      await r.start();
      await until("a batch in flight", () => gated.calls === 1);
      process.emit("SIGTERM", "SIGTERM");
      gated.release();
      await until("the relay to stop", async () => !(await r.metrics()).running);
      expect(delivered).toHaveLength(5);
      expect(process.listenerCount("SIGTERM")).toBe(0);
    });

    it("stopOnSignals(relay, signals): the app's helper stops after the in-flight batch, then removes its handlers", async () => {
      const gated = new GatedPublisher(publisher);
      gated.hold();
      const r = relay({ publisher: gated.asPublisher(), batchSize: 5 });
      const before = process.listenerCount("SIGTERM");
      const beforeInt = process.listenerCount("SIGINT");
      const stoppedBy: string[] = [];
      stopOnSignals(r, ["SIGTERM", "SIGINT"], { logger: silentLogger, afterStop: (signal) => void stoppedBy.push(signal) });
      expect(process.listenerCount("SIGTERM")).toBe(before + 1);
      await h.transaction([{ enqueue: Array.from({ length: 12 }, () => makeEvent()) }]);
      await r.start();
      await until("a batch in flight", () => gated.calls === 1);
      process.emit("SIGTERM", "SIGTERM");
      gated.release();
      await until("the relay to stop", () => stoppedBy.length === 1);
      expect(stoppedBy).toEqual(["SIGTERM"]);
      expect((await r.metrics()).running).toBe(false);
      expect(delivered).toHaveLength(5);
      expect(process.listenerCount("SIGTERM")).toBe(before);
      expect(process.listenerCount("SIGINT")).toBe(beforeInt);

      // The uninstall function it returns removes the handlers without stopping anything.
      const other = relay();
      const uninstall = stopOnSignals(other, ["SIGTERM"], { logger: silentLogger });
      uninstall();
      expect(process.listenerCount("SIGTERM")).toBe(before);
    });

    it("metrics().state names what the relay is doing: stopped, in-flight, waiting, stopping, stopped", async () => {
      const gated = new GatedPublisher(publisher);
      gated.hold();
      const r = relay({ publisher: gated.asPublisher(), batchSize: 100, pollIntervalMs: 60_000 });
      expect((await r.metrics()).state).toBe("stopped");
      await h.transaction([{ enqueue: [makeEvent(), makeEvent()] }]);
      await r.start();
      await until("a batch in flight", () => gated.calls === 1);
      expect(await r.metrics()).toMatchObject({ state: "in-flight", running: true });
      gated.release();
      await until("the relay to wait for new rows", async () => (await r.metrics()).state === "waiting");
      expect(delivered).toHaveLength(2);
      gated.hold();
      await h.transaction([{ enqueue: makeEvent() }]);
      r.notify();
      await until("the next batch in flight", () => gated.calls === 2);
      const stopping = r.stop();
      expect((await r.metrics()).state).toBe("stopping");
      gated.release();
      await stopping;
      expect(await r.metrics()).toMatchObject({ state: "stopped", running: false });
    });

    it("metrics: backlog, oldest pending age and counts", async () => {
      const r = relay();
      await h.transaction([{ enqueue: [makeEvent(), makeEvent()] }]);
      await new Promise((res) => setTimeout(res, 20));
      const before = await r.metrics();
      expect(before).toMatchObject({ backlog: 2, sent: 0, retried: 0, dead: 0, deadRows: 0, running: false });
      expect(before.oldestPendingAgeMs).toBeGreaterThan(0);
      expect(await r.runOnce()).toBe(2);
      const after = await r.metrics();
      expect(after).toMatchObject({ backlog: 0, oldestPendingAgeMs: 0, sent: 2, batches: 1 });
    });
  });
}

/** For every partition key, the first delivery of each event follows the order the events were enqueued. */
export function assertOrderPerKey(enqueued: readonly DomainEvent[], delivered: readonly DomainEvent[]) {
  const rank = new Map(enqueued.map((e, i) => [e.id, i]));
  const lastByKey = new Map<string, number>();
  const seen = new Set<string>();
  for (const e of delivered) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    const at = rank.get(e.id) as number;
    const previous = lastByKey.get(e.partitionkey) ?? -1;
    expect(at, `event ${e.id} of key ${e.partitionkey} delivered out of order`).toBeGreaterThan(previous);
    lastByKey.set(e.partitionkey, at);
  }
}
