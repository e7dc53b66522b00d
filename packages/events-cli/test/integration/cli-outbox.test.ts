// kaireon-events outbox status|dead|requeue on a real SQLite file and the shared PostgreSQL, with
// rows written and parked dead through @kaireon/events-outbox's own store API.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent } from "@kaireon/events-core";
import { createPostgresOutbox, createSqliteOutbox, type OutboxStore } from "@kaireon/events-outbox";
import { requireService, sampleInteraction, uniqueName } from "@kaireon/events-testkit";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, ndjson, runCli } from "../support/cli.js";

const events = () => [1, 2, 3].map((n) => createEvent("interaction.recorded.v1", sampleInteraction({ customerId: `c-${n}` })));

/** Parks the oldest row as dead with a known error, as the relay does after its last attempt. */
async function parkOldestDead(store: OutboxStore): Promise<void> {
  const claim = await store.claim(1);
  const row = claim.rows[0];
  if (!row) throw new Error("nothing to claim");
  await claim.complete([{ seq: row.seq, status: "dead", attempts: 25, error: "PUBLISH_FAILED: broker said no" }]);
}

function exercise(name: string, setup: () => Promise<{ args: string[]; env: NodeJS.ProcessEnv; ids: string[] }>) {
  describe(`outbox on ${name}`, () => {
    let args: string[];
    let env: NodeJS.ProcessEnv;
    let ids: string[];
    beforeAll(async () => {
      ({ args, env, ids } = await setup());
    });

    it("status: backlog, oldest age, dead rows", async () => {
      const r = await runCli(["outbox", "status", ...args, "--json"], { env });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const [stats] = ndjson<{ backlog: number; deadRows: number; oldestPendingAgeMs: number }>(r.stdout);
      expect(stats).toMatchObject({ backlog: 2, deadRows: 1 });
      expect(stats?.oldestPendingAgeMs).toBeGreaterThanOrEqual(0);
      const text = await runCli(["outbox", "status", ...args], { env });
      expect(text.stdout).toMatch(/backlog {2}2 row\(s\) waiting, oldest \d+/);
      expect(text.stdout).toContain("dead     1 row(s)");
    });

    it("dead: the dead row with its last error", async () => {
      const r = await runCli(["outbox", "dead", ...args, "--json"], { env });
      expect(r.code).toBe(0);
      expect(ndjson(r.stdout)).toEqual([
        expect.objectContaining({
          eventId: ids[0],
          topic: "interaction.recorded.v1",
          attempts: 25,
          lastError: "PUBLISH_FAILED: broker said no",
        }),
      ]);
      const text = await runCli(["outbox", "dead", ...args], { env });
      expect(text.stdout).toContain(`${ids[0]}  interaction.recorded.v1`);
      expect(text.stdout).toContain("last error: PUBLISH_FAILED: broker said no");
    });

    it("requeue: needs ids or --all (exit 2); by id puts the row back to pending", async () => {
      const none = await runCli(["outbox", "requeue", ...args], { env });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain("give event ids, or --all");
      const notUuid = await runCli(["outbox", "requeue", "nope", ...args], { env });
      expect(notUuid.code).toBe(2);
      const r = await runCli(["outbox", "requeue", ids[0] as string, ...args], { env });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("requeued 1 dead row(s)");
      const [stats] = ndjson<{ backlog: number; deadRows: number }>(
        (await runCli(["outbox", "status", ...args, "--json"], { env })).stdout,
      );
      expect(stats).toMatchObject({ backlog: 3, deadRows: 0 });
      const all = await runCli(["outbox", "requeue", "--all", ...args], { env });
      expect(all.stdout).toContain("requeued 0 dead row(s)");
    });

    it("a table that is not there: named, exit 1", async () => {
      const r = await runCli(["outbox", "status", ...args, "--table", "no_such_outbox"], { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/OUTBOX_NOT_FOUND: .*no_such_outbox/);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "kaireon-cli-outbox-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

exercise("SQLite", async () => {
  const file = join(dir, "store.db");
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  const store = createSqliteOutbox({ db });
  await store.migrate();
  const batch = events();
  db.transaction(() => store.enqueue(db, batch))();
  await parkOldestDead(store);
  db.close();
  return { args: ["--sqlite", file], env: cliEnv({}), ids: batch.map((e) => e.id) };
});

describe("outbox on SQLite: input errors", () => {
  it("a missing file, and no store at all", async () => {
    const missing = await runCli(["outbox", "status", "--sqlite", join(dir, "nope.db")], { env: cliEnv({}) });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("OUTBOX_NOT_FOUND: --sqlite");
    const notSqlite = join(dir, "notes.txt");
    writeFileSync(notSqlite, "not a database, just text that is long enough to be read as a header ".repeat(20));
    const garbage = await runCli(["outbox", "status", "--sqlite", notSqlite], { env: cliEnv({}) });
    expect(garbage.code).toBe(1);
    expect(garbage.stderr.trim()).toMatch(/^OUTBOX_UNREADABLE: --sqlite .*notes\.txt: file is not a database \(SQLITE_NOTADB\)/);
    const none = await runCli(["outbox", "status"], { env: cliEnv({}) });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("pass --sqlite <file> or set DATABASE_URL");
  });
});

let pool: pg.Pool | undefined;
const table = uniqueName("cli_outbox", "_");
afterAll(async () => {
  if (!pool) return;
  await pool.query(`DROP TABLE IF EXISTS ${table}; DROP TABLE IF EXISTS ${table}_schema`).catch(() => {});
  await pool.end();
});

exercise("PostgreSQL", async () => {
  const url = await requireService({ variable: "DATABASE_URL", name: "PostgreSQL" });
  pool = new pg.Pool({ connectionString: url, max: 2 });
  const store = createPostgresOutbox({ pool, table });
  await store.migrate();
  const batch = events();
  await store.enqueue(pool, batch);
  await parkOldestDead(store);
  return { args: ["--table", table], env: cliEnv({ DATABASE_URL: url }), ids: batch.map((e) => e.id) };
});
