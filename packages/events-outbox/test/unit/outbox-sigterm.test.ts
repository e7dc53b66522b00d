// A real SIGTERM to a real relay process (built package, SQLite file): the in-flight batch is
// published and marked sent, then the process exits on its own with code 0.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function sigtermDuringBatch(...args: string[]) {
  dir = mkdtempSync(join(tmpdir(), "outbox-sigterm-"));
  const file = join(dir, "outbox.db");
  const child = spawn(process.execPath, [join(import.meta.dirname, "../fixtures/sigterm-relay.mjs"), file, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("BATCH")) resolve();
    });
    child.on("exit", () => reject(new Error(`relay process ended before its first batch: ${out}`)));
  });
  child.kill("SIGTERM");
  const { code, signal } = await exited;
  expect({ code, signal }).toEqual({ code: 0, signal: null });
  expect(out.match(/BATCH/g)).toHaveLength(1);
  expect(out).toContain("EXIT");

  const db = new Database(file, { readonly: true });
  const counts = db.prepare("SELECT status, count(*) AS n FROM kaireon_outbox_rows GROUP BY status ORDER BY status").all();
  db.close();
  expect(counts).toEqual([
    { status: "pending", n: 20 },
    { status: "sent", n: 10 },
  ]);
}

it("SIGTERM: the relay process finishes its in-flight batch, marks it sent and exits 0", () => sigtermDuringBatch());

it("SIGTERM with the app's stopOnSignals(relay, signals): the same, the library installs nothing itself", () =>
  sigtermDuringBatch("helper"));
