// kaireon-events outbox status|dead|requeue: look into an outbox table (SQLite file or PostgreSQL)
// through @kaireon/events-outbox's stores; dead rows are read from the documented view/table, read-only.

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { redactSecrets, redactUrl, urlSecrets } from "@kaireon/events-core";
import { createPostgresOutbox, createSqliteOutbox, type OutboxStore } from "@kaireon/events-outbox";
import { parseCommandArgs, parseCount } from "../cli-args.js";
import { withEnvFile } from "../cli-env.js";
import { CliFailure, EXIT_OK, UsageError } from "../cli-errors.js";
import { type CliIo, painter, writeLine } from "../cli-io.js";

export const outboxHelp = `Usage: kaireon-events outbox <status|dead|requeue> [--sqlite <file> | DATABASE_URL] [options]

  status              backlog (rows waiting to be sent), age of the oldest, dead rows
  dead                the dead rows: event id, topic, key, attempts, last error (read-only)
  requeue <id…>       put these dead rows back to pending (attempts reset); --all for every dead row

The store: --sqlite <file> (needs better-sqlite3), else DATABASE_URL (PostgreSQL, needs pg).
The outbox table must exist (the relay creates it, or store.migrate()); nothing is created here.
Requeue only after the cause is fixed: a requeued row is sent again by the running relay.

Options:
  --sqlite <file>     the application's SQLite file
  --table <name>      outbox table (default kaireon_outbox)
  --limit <N>         dead: at most N rows (default 100)
  --all               requeue: every dead row
  --json              machine-readable output
  --env-file <file>   variables from this file over the environment
  -h, --help          this help

Examples:
  kaireon-events outbox status --sqlite store.db
  DATABASE_URL=postgres://app@db/app kaireon-events outbox dead --limit 20
  kaireon-events outbox requeue 0190c1d2-… --sqlite store.db`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;

interface DeadRow {
  eventId: string;
  topic: string;
  partitionKey: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

interface OpenStore {
  store: OutboxStore;
  where: string;
  dead(limit: number): Promise<DeadRow[]>;
  close(): Promise<void>;
}

async function importDriver<T>(name: string, why: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND")
      throw new CliFailure(
        `${why} needs ${name} — install it beside kaireon-events: pnpm add ${name === "better-sqlite3" ? "better-sqlite3@^12" : "pg@^8"}`,
        "DRIVER_NOT_INSTALLED",
      );
    throw error;
  }
}

async function openSqlite(file: string, table: string, writable: boolean): Promise<OpenStore> {
  if (!existsSync(file)) throw new CliFailure(`--sqlite ${file}: no such file — give the application's SQLite file`, "OUTBOX_NOT_FOUND");
  type Sqlite = typeof import("better-sqlite3");
  const mod = await importDriver<{ default: Sqlite }>("better-sqlite3", "--sqlite");
  let db: InstanceType<Sqlite>;
  let view: unknown;
  try {
    db = new mod.default(file, { readonly: !writable, fileMustExist: true });
    // Another process (the relay) may hold the write lock for a moment.
    db.pragma("busy_timeout = 5000");
    view = db.prepare("SELECT name FROM sqlite_master WHERE type = 'view' AND name = ?").get(`${table}_rows`);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "SQLITE_ERROR";
    throw new CliFailure(
      `--sqlite ${file}: ${(error as Error).message} (${code}) — give the application's SQLite file`,
      "OUTBOX_UNREADABLE",
    );
  }
  if (!view) {
    db.close();
    throw new CliFailure(
      `${file} has no outbox ${table} (view ${table}_rows is missing) — start the relay once (it migrates), or check --table`,
      "OUTBOX_NOT_FOUND",
    );
  }
  return {
    store: createSqliteOutbox({ db, table }),
    where: `sqlite ${file} (${table})`,
    async dead(limit) {
      const rows = db
        .prepare(
          `SELECT event_id, topic, partition_key, attempts, last_error, created_at FROM ${table}_rows WHERE status = 'dead' ORDER BY seq LIMIT ?`,
        )
        .all(limit) as {
        event_id: string;
        topic: string;
        partition_key: string;
        attempts: number;
        last_error: string | null;
        created_at: number;
      }[];
      return rows.map((r) => ({
        eventId: r.event_id,
        topic: r.topic,
        partitionKey: r.partition_key,
        attempts: r.attempts,
        lastError: r.last_error,
        createdAt: new Date(r.created_at).toISOString(),
      }));
    },
    async close() {
      db.close();
    },
  };
}

async function openPostgres(url: string, table: string): Promise<OpenStore> {
  type Pg = typeof import("pg");
  const mod = await importDriver<{ default: Pg }>("pg", "DATABASE_URL");
  const pool = new mod.default.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000 });
  pool.on("error", () => {});
  const secrets = urlSecrets(url);
  const where = `postgres ${redactUrl(url)} (${table})`;
  try {
    const { rows } = await pool.query("SELECT to_regclass($1) AS t", [table]);
    if (!rows[0]?.t)
      throw new CliFailure(
        `${where}: table ${table} does not exist — start the relay once (it migrates), or check --table`,
        "OUTBOX_NOT_FOUND",
      );
  } catch (error) {
    await pool.end().catch(() => {});
    if (error instanceof CliFailure) throw error;
    throw new CliFailure(
      `cannot reach ${where}: ${redactSecrets((error as Error).message, secrets)} — check DATABASE_URL`,
      "CONNECTION_FAILED",
    );
  }
  return {
    store: createPostgresOutbox({ pool, table }),
    where,
    async dead(limit) {
      const { rows } = await pool.query(
        `SELECT event_id, topic, partition_key, attempts, last_error, created_at FROM ${table} WHERE status = 'dead' ORDER BY seq LIMIT $1`,
        [limit],
      );
      return rows.map((r) => ({
        eventId: r.event_id,
        topic: r.topic,
        partitionKey: r.partition_key,
        attempts: Number(r.attempts),
        lastError: r.last_error,
        createdAt: new Date(r.created_at).toISOString(),
      }));
    },
    close: () => pool.end(),
  };
}

function age(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export async function runOutbox(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("outbox", args, {
    sqlite: { type: "string" },
    table: { type: "string" },
    limit: { type: "string" },
    all: { type: "boolean" },
    json: { type: "boolean" },
    "env-file": { type: "string" },
  });
  if (values.help || positionals.length === 0) {
    writeLine(io.stdout, outboxHelp);
    if (values.help) return EXIT_OK;
    throw new UsageError("outbox: give a subcommand — status, dead or requeue");
  }
  const [sub, ...ids] = positionals as [string, ...string[]];
  if (!["status", "dead", "requeue"].includes(sub))
    throw new UsageError(`outbox: "${sub}" is not a subcommand — use status, dead or requeue`);
  if (sub !== "requeue" && ids.length > 0) throw new UsageError(`outbox ${sub}: takes no arguments (got ${ids.join(" ")})`);
  if (sub === "requeue" && ids.length === 0 && !values.all)
    throw new UsageError("outbox requeue: give event ids, or --all for every dead row");
  if (sub === "requeue" && ids.length > 0 && values.all) throw new UsageError("outbox requeue: give event ids or --all, not both");
  const notIds = ids.filter((id) => !UUID.test(id));
  if (notIds.length > 0) throw new UsageError(`outbox requeue: not an event id (a UUID): ${notIds.join(", ")}`);
  const table = values.table ?? "kaireon_outbox";
  if (!TABLE.test(table)) throw new UsageError(`--table "${table}" must be letters, digits and _ (a plain SQL name)`);
  const limit = parseCount("--limit", values.limit) ?? 100;
  const env = withEnvFile(io.env, values["env-file"], io.cwd);
  const url = env.DATABASE_URL?.trim();
  if (values.sqlite === undefined && !url) throw new UsageError("outbox: no store — pass --sqlite <file> or set DATABASE_URL (PostgreSQL)");

  const open =
    values.sqlite !== undefined
      ? await openSqlite(resolve(io.cwd, values.sqlite), table, sub === "requeue")
      : await openPostgres(url as string, table);
  const p = painter(io.stdout, io.env);
  try {
    if (sub === "status") {
      const stats = await open.store.stats();
      if (values.json) writeLine(io.stdout, JSON.stringify({ store: open.where, ...stats }));
      else {
        writeLine(io.stdout, `${p.paint("bold", "outbox")}   ${open.where}`);
        writeLine(
          io.stdout,
          `backlog  ${stats.backlog} row(s) waiting${stats.backlog > 0 ? `, oldest ${age(stats.oldestPendingAgeMs)}` : ""}`,
        );
        writeLine(
          io.stdout,
          `dead     ${stats.deadRows === 0 ? "0" : p.paint("red", String(stats.deadRows))} row(s)${stats.deadRows > 0 ? " — kaireon-events outbox dead" : ""}`,
        );
      }
    } else if (sub === "dead") {
      const rows = await open.dead(limit);
      if (values.json) for (const r of rows) writeLine(io.stdout, JSON.stringify(r));
      else if (rows.length === 0) writeLine(io.stdout, `no dead rows in ${open.where}`);
      else
        for (const r of rows)
          writeLine(
            io.stdout,
            `${r.eventId}  ${r.topic}  key=${r.partitionKey}  attempts=${r.attempts}  created=${r.createdAt}\n  ${p.paint("red", "last error:")} ${r.lastError ?? "(none recorded)"}`,
          );
    } else {
      const changed = await open.store.requeueDead(ids.length > 0 ? ids : undefined);
      if (values.json) writeLine(io.stdout, JSON.stringify({ requeued: changed }));
      else
        writeLine(
          io.stdout,
          `requeued ${changed} dead row(s) in ${open.where}${ids.length > changed ? ` (${ids.length - changed} of the ids given are not dead rows)` : ""}`,
        );
    }
  } finally {
    await open.close();
  }
  return EXIT_OK;
}
