// The relay's WAL checkpoints run on a thread (and a connection) of their own (src/checkpoint-thread.ts):
// with the writer's automatic checkpoint off, committed pages reach the database file only through
// that thread; stop() closes its connection and ends the thread. A real SQLite file in WAL mode.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { startCheckpoints } from "../../src/relay.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it("committed pages reach the database file through the checkpoint thread, and stop() ends it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kaireon-checkpoints-"));
  dirs.push(dir);
  const file = join(dir, "demo.sqlite");
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("wal_autocheckpoint = 0"); // only the thread checkpoints
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)");
  const before = statSync(file).size;
  const insert = db.prepare("INSERT INTO t (body) VALUES (?)");
  db.transaction(() => {
    for (let i = 0; i < 2_000; i++) insert.run("x".repeat(200));
  })();
  expect(statSync(file).size, "nothing checkpointed yet").toBe(before);

  const stop = startCheckpoints({ kind: "sqlite", file });
  try {
    const deadline = Date.now() + 30_000;
    while (statSync(file).size <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(statSync(file).size, "the database file holds the checkpointed pages").toBeGreaterThan(before);
  } finally {
    await stop();
  }
  // The thread's connection is closed: the writer, the last connection, still reads everything.
  expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 2_000 });
  db.close();
});

it("stop() returns for a checkpoint thread that has already died (its database file does not exist)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kaireon-checkpoints-"));
  dirs.push(dir);
  const stop = startCheckpoints({ kind: "sqlite", file: join(dir, "missing.sqlite") });
  // The thread fails at open (fileMustExist) and exits; stop() must not wait for an exit already past.
  await new Promise((r) => setTimeout(r, 1_000));
  await expect(stop()).resolves.toBeUndefined();
}, 20_000);

it("is a no-op on PostgreSQL", async () => {
  const stop = startCheckpoints({ kind: "postgres", url: "postgres://127.0.0.1:1/none" });
  await expect(stop()).resolves.toBeUndefined();
});
