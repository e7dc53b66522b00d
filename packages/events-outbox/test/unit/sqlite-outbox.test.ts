// The SQLite store against a real better-sqlite3 database (in-process, so a unit test).
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createSqliteOutbox } from "../../src/index.js";
import { describeOutboxStore, makeEvent, type StoreHarness } from "../support/outbox-suite.js";

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
          "SELECT event_id AS eventId, status, attempts, last_error AS lastError, partition_key AS partitionKey FROM kaireon_outbox ORDER BY seq",
        )
        .all() as never;
    },
    async orders() {
      return (db.prepare("SELECT id FROM orders ORDER BY id").all() as { id: string }[]).map((r) => r.id);
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

  it("prunes sent rows older than the retention, never pending or dead ones", async () => {
    let clock = 1_000_000;
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db, now: () => clock });
    await store.migrate();
    const events = [makeEvent(), makeEvent(), makeEvent()];
    db.transaction(() => store.enqueue(db!, events))();
    const claim = await store.claim(10);
    await claim.complete([
      { seq: claim.rows[0]!.seq, status: "sent" },
      { seq: claim.rows[1]!.seq, status: "dead", attempts: 1, error: "x" },
    ]);
    clock += 60_000;
    expect(await store.pruneSent(120_000, 100)).toBe(0);
    expect(await store.pruneSent(30_000, 100)).toBe(1);
    const left = db.prepare("SELECT status FROM kaireon_outbox ORDER BY seq").all();
    expect(left).toEqual([{ status: "dead" }, { status: "pending" }]);
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

  it("records the schema version once, however often migrate runs", async () => {
    db = new Database(":memory:");
    const store = createSqliteOutbox({ db, table: "app_outbox" });
    await store.migrate();
    await store.migrate();
    expect(db.prepare("SELECT version FROM app_outbox_schema").all()).toEqual([{ version: 1 }]);
  });

  it("rejects a table name that is not a plain identifier", () => {
    expect(() => createSqliteOutbox({ db: {} as never, table: "x; drop table y" })).toThrow(/option "table"/);
  });
});
