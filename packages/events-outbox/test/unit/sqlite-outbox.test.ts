// The SQLite store against a real better-sqlite3 database (in-process, so a unit test).
import { MemoryBus, MemoryPublisher, silentLogger } from "@kaireon/events-core";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createOutboxRelay, createSqliteOutbox } from "../../src/index.js";
import { describeOutboxStore, makeEvent, recordBus, type StoreHarness } from "../support/outbox-suite.js";

function openSqlite(): StoreHarness {
  const db = new Database(":memory:");
  db.exec("CREATE TABLE orders (id TEXT PRIMARY KEY)");
  const store = createSqliteOutbox({ db });
  const insertOrder = db.prepare("INSERT INTO orders (id) VALUES (?)");
  return {
    store,
    async transaction(steps, options = {}) {
      const rollback = new Error("rollback");
      try {
        db.transaction(() => {
          for (const step of steps) {
            if ("order" in step) insertOrder.run(step.order);
            else store.enqueue(db, step.enqueue);
          }
          if (options.rollback) throw rollback;
        })();
      } catch (error) {
        if (error !== rollback) throw error;
      }
    },
    async rows() {
      return db
        .prepare(
          "SELECT event_id AS eventId, status, attempts, last_error AS lastError, partition_key AS partitionKey FROM kaireon_outbox_rows ORDER BY seq",
        )
        .all() as never;
    },
    async orders() {
      return (db.prepare("SELECT id FROM orders ORDER BY id").all() as { id: string }[]).map((r) => r.id);
    },
    async setPayload(eventId, payload) {
      db.prepare("UPDATE kaireon_outbox SET payload = ? WHERE event_id = ?").run(payload, eventId);
    },
    async close() {
      db.close();
    },
  };
}

describeOutboxStore("SQLite", async () => openSqlite());

describe("SQLite outbox specifics", () => {
  let db: Database.Database | undefined;
  afterEach(() => db?.close());

  it("prunes every old sent row in chunks whatever dead rows sit among them, yielding between chunks; never pending, dead or recent rows", async () => {
    let clock = 1_000_000;
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db, now: () => clock });
    await store.migrate();
    const add = (n: number, key: string) => {
      const events = Array.from({ length: n }, () => makeEvent(key));
      db!.transaction(() => store.enqueue(db!, events))();
    };
    const settle = async (n: number, status: (i: number) => "sent" | "dead") => {
      for (let done = 0; done < n; ) {
        const claim = await store.claim(Math.min(5000, n - done));
        await claim.complete(
          claim.rows.map((r, i) =>
            status(done + i) === "sent" ? { seq: r.seq, status: "sent" } : { seq: r.seq, status: "dead", attempts: 1, error: "x" },
          ),
        );
        done += claim.rows.length;
      }
    };
    // 10,000 dead rows at the head (more than one prune chunk), then 25,000 sent rows with one dead
    // row among them, then 100 recent sent rows and 5 pending ones.
    add(10_000, "dead");
    await settle(10_000, () => "dead");
    add(25_000, "old");
    await settle(25_000, (i) => (i === 3 ? "dead" : "sent"));
    clock += 60_000;
    add(100, "recent");
    await settle(100, () => "sent");
    add(5, "pending");

    let calls = 0;
    const counted = {
      ...store,
      pruneSent: (olderThanMs: number, limit: number) => {
        calls++;
        return store.pruneSent(olderThanMs, limit);
      },
    };
    const relay = createOutboxRelay({
      store: counted,
      publisher: new MemoryPublisher({ logger: silentLogger }),
      retention: { sentMs: 30_000 },
      logger: silentLogger,
    });
    let callsWhenTheLoopRan = -1;
    setImmediate(() => {
      callsWhenTheLoopRan = calls;
    });
    expect(await relay.prune()).toBe(24_999);
    // The event loop ran while pruning (timers and the app's I/O are not held for the whole run).
    expect(callsWhenTheLoopRan).toBeGreaterThan(0);
    expect(callsWhenTheLoopRan).toBeLessThan(calls);
    const left = db.prepare("SELECT status, count(*) AS n FROM kaireon_outbox_rows GROUP BY status ORDER BY status").all();
    expect(left).toEqual([
      { status: "dead", n: 10_001 },
      { status: "pending", n: 5 },
      { status: "sent", n: 100 },
    ]);
    expect(await relay.prune()).toBe(0);
    expect(await store.stats()).toMatchObject({ backlog: 5, deadRows: 10_001 });
  }, 120_000);

  it("a key waiting for a retry holds its later rows back; other keys flow, then the key resumes in order", async () => {
    let clock = 1_000_000;
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db, now: () => clock });
    await store.migrate();
    const a1 = makeEvent("a");
    db.transaction(() => store.enqueue(db!, a1))();
    const first = await store.claim(10);
    await first.complete([{ seq: first.rows[0]!.seq, status: "retry", attempts: 1, delayMs: 60_000, error: "down" }]);
    // 5,000 later rows of the waiting key (more than one claim looks at), then one of another key.
    const later = Array.from({ length: 5000 }, () => makeEvent("a"));
    const b1 = makeEvent("b");
    db.transaction(() => store.enqueue(db!, [...later, b1]))();
    // Each claim looks at a bounded number of rows (1,000 here), moving the waiting key's rows aside
    // as it goes, so it takes a few claims to reach b.
    let second = await store.claim(10);
    for (let tries = 1; second.rows.length === 0 && tries < 10; tries++) second = await store.claim(10);
    expect(second.rows.map((r) => r.eventId)).toEqual([b1.id]);
    await second.complete([{ seq: second.rows[0]!.seq, status: "sent" }]);
    expect(await store.stats()).toMatchObject({ backlog: 5001 });
    expect(await store.nextDueInMs()).toBe(60_000);

    clock += 60_000;
    const sent: string[] = [];
    for (let claim = await store.claim(1000); claim.rows.length > 0; claim = await store.claim(1000)) {
      sent.push(...claim.rows.map((r) => r.eventId));
      await claim.complete(claim.rows.map((r) => ({ seq: r.seq, status: "sent" as const })));
    }
    expect(sent).toEqual([a1.id, ...later.map((e) => e.id)]);
    expect(await store.stats()).toMatchObject({ backlog: 0, deadRows: 0 });
    const rows = db.prepare("SELECT event_id AS id, status, attempts FROM kaireon_outbox_rows ORDER BY seq").all();
    expect(rows[0]).toEqual({ id: a1.id, status: "sent", attempts: 2 });
    expect(rows.every((r) => (r as { status: string }).status === "sent")).toBe(true);
  });

  it("a requeued dead row goes first for its key; the key's other waiting rows queue behind it", async () => {
    const clock = 1_000_000;
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db, now: () => clock });
    await store.migrate();
    const [dead, failing, queued] = [makeEvent("k"), makeEvent("k"), makeEvent("k")];
    db.transaction(() => store.enqueue(db!, dead))();
    const c1 = await store.claim(10);
    await c1.complete([{ seq: c1.rows[0]!.seq, status: "dead", attempts: 1, error: "refused" }]);
    db.transaction(() => store.enqueue(db!, [failing, queued]))();
    const c2 = await store.claim(10);
    expect(c2.rows.map((r) => r.eventId)).toEqual([failing.id, queued.id]);
    await c2.complete([
      { seq: c2.rows[0]!.seq, status: "retry", attempts: 1, delayMs: 60_000, error: "down" },
      { seq: c2.rows[1]!.seq, status: "retry", attempts: 1, delayMs: 1_000, error: "down" },
    ]);
    // The key waits for its first row's retry, whatever the later row's own delay was.
    expect(await store.nextDueInMs()).toBe(60_000);
    expect((await store.claim(10)).rows).toEqual([]);

    expect(await store.requeueDead([dead.id])).toBe(1);
    expect(await store.nextDueInMs()).toBe(0);
    const c3 = await store.claim(10);
    expect(c3.rows.map((r) => r.eventId)).toEqual([dead.id, failing.id, queued.id]);
  });

  it("a claim completed for only part of its rows leaves the rest to be claimed again", async () => {
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    const events = [makeEvent("x"), makeEvent("y"), makeEvent("z")];
    db.transaction(() => store.enqueue(db!, events))();
    const claim = await store.claim(10);
    expect(await store.claim(10)).toMatchObject({ rows: [] }); // one claim at a time
    await claim.complete([{ seq: claim.rows[0]!.seq, status: "sent" }]);
    expect((await store.claim(10)).rows.map((r) => r.eventId)).toEqual([events[1]!.id, events[2]!.id]);
  });

  it("enqueue is one insert into a table without secondary indexes", async () => {
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    expect(db.prepare("SELECT name FROM pragma_index_list('kaireon_outbox')").all()).toEqual([]);
  });

  it("upgrades a version-1 table: sent history kept, dead letters requeueable, pending rows sent in order", async () => {
    db = new Database(":memory:");
    db.exec(`CREATE TABLE kaireon_outbox_schema (version INTEGER NOT NULL); INSERT INTO kaireon_outbox_schema VALUES (1);
      CREATE TABLE kaireon_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL,
        partition_key TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL, last_error TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, sent_at INTEGER);
      CREATE INDEX kaireon_outbox_pending ON kaireon_outbox (seq) WHERE status = 'pending';`);
    const v1 = db.prepare(
      "INSERT INTO kaireon_outbox (event_id, topic, partition_key, payload, status, attempts, next_attempt_at, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 1, 1)",
    );
    const [sent, pending1, dead, pending2] = [makeEvent("k"), makeEvent("k"), makeEvent("d"), makeEvent("k")];
    for (const [e, status, attempts, error] of [
      [sent, "sent", 1, null],
      [pending1, "pending", 2, "down"],
      [dead, "dead", 25, "gone"],
      [pending2, "pending", 0, null],
    ] as const) {
      v1.run(e!.id, e!.type, e!.partitionkey, JSON.stringify(e), status, attempts, error);
    }
    const store = createSqliteOutbox({ db });
    await store.migrate();
    const rows = db.prepare("SELECT event_id AS id, status FROM kaireon_outbox_rows ORDER BY seq").all();
    expect(rows).toEqual([
      { id: sent.id, status: "sent" },
      { id: dead.id, status: "dead" },
      { id: pending1.id, status: "pending" },
      { id: pending2.id, status: "pending" },
    ]);
    expect(await store.stats()).toMatchObject({ backlog: 2, deadRows: 1 });
    const claim = await store.claim(10);
    expect(claim.rows.map((r) => r.eventId)).toEqual([pending1.id, pending2.id]);
    await claim.complete(claim.rows.map((r) => ({ seq: r.seq, status: "sent" as const })));
    expect(await store.requeueDead([dead.id])).toBe(1);
    expect((await store.claim(10)).rows.map((r) => r.eventId)).toEqual([dead.id]);
  });

  it("does not claim while the connection is inside a transaction opened by hand", async () => {
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    db.exec("BEGIN");
    store.enqueue(db, makeEvent());
    expect((await store.claim(10)).rows).toHaveLength(0);
    db.exec("COMMIT");
    expect((await store.claim(10)).rows).toHaveLength(1);
  });

  it("reads cursor, last row and retry rows in one statement: nothing due, due now, rows deleted by hand past the cursor", async () => {
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    expect(await store.nextDueInMs()).toBeUndefined();
    expect((await store.claim(10)).rows).toHaveLength(0);
    db.transaction(() => store.enqueue(db as Database.Database, [makeEvent("a"), makeEvent("b")]))();
    expect(await store.nextDueInMs()).toBe(0);
    const claim = await store.claim(10);
    await claim.complete(claim.rows.map((r) => ({ seq: r.seq, status: "sent" as const })));
    expect(await store.nextDueInMs()).toBeUndefined();
    // Sent rows deleted by hand: new rows would reuse their seqs, so the next look moves the cursor down.
    db.exec("DELETE FROM kaireon_outbox");
    expect(await store.nextDueInMs()).toBeUndefined();
    const again = makeEvent("c");
    db.transaction(() => store.enqueue(db as Database.Database, again))();
    expect(await store.nextDueInMs()).toBe(0);
    expect((await store.claim(10)).rows.map((r) => r.eventId)).toEqual([again.id]);
  });

  it("rows read ahead are used only when the batch before went out whole: a retried key keeps its later rows back", async () => {
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    const add = (key: string, n: number) => {
      const events = Array.from({ length: n }, () => makeEvent(key));
      db!.transaction(() => store.enqueue(db!, events))();
      return events;
    };
    const a = add("a", 2);
    const b = add("b", 2);
    const a2 = add("a", 1);
    const first = await store.claim(2);
    expect(first.rows.map((r) => r.eventId)).toEqual(a.map((e) => e.id));
    // Read ahead while the first batch is out; then its second row fails and waits for a retry.
    expect(store.readAhead?.((first.rows[1] as { seq: number }).seq, 3).map((r) => r.eventId)).toEqual([...b, ...a2].map((e) => e.id));
    const [s0, s1] = first.rows.map((r) => r.seq) as [number, number];
    await first.complete([
      { seq: s0, status: "sent" },
      { seq: s1, status: "retry", attempts: 1, delayMs: 60_000, error: "x" },
    ]);
    // Key a waits: its later row stays back although it was read ahead.
    expect((await store.claim(10)).rows.map((r) => r.eventId)).toEqual(b.map((e) => e.id));
  });

  it("a relay draining full batches reads the next one ahead: every event once, in order", async () => {
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db });
    await store.migrate();
    const events = Array.from({ length: 950 }, (_, i) => makeEvent(`c-${i % 7}`));
    db.transaction(() => store.enqueue(db!, events))();
    const bus = new MemoryBus(0);
    const delivered = recordBus(bus);
    let readsAhead = 0;
    const readAhead = store.readAhead?.bind(store);
    const spied = Object.assign(Object.create(store), {
      readAhead: (after: number, limit: number) => {
        readsAhead++;
        return readAhead?.(after, limit) ?? [];
      },
    });
    const relay = createOutboxRelay({
      store: spied,
      publisher: new MemoryPublisher({ bus, logger: silentLogger }),
      batchSize: 100,
      retention: false,
      logger: silentLogger,
    });
    await relay.start();
    for (let i = 0; i < 500 && delivered.length < events.length; i++) await new Promise((r) => setTimeout(r, 10));
    await relay.stop();
    expect(delivered.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(readsAhead).toBe(9);
    expect(await store.stats()).toMatchObject({ backlog: 0 });
  });

  it("records the schema version once, however often migrate runs", async () => {
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db, table: "app_outbox" });
    await store.migrate();
    await store.migrate();
    expect(db.prepare("SELECT version FROM app_outbox_schema").all()).toEqual([{ version: 1 }, { version: 2 }]);
  });

  it("rejects a table name that is not a plain identifier", () => {
    expect(() => createSqliteOutbox({ db: {} as never, table: "x; drop table y" })).toThrow(/option "table"/);
  });
});
