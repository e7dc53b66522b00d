// Two processes opening one fresh SQLite file at the same moment (the server and relay-main started
// together, DEMO_RELAY=separate): neither may fail with "database is locked". Real processes, released
// by one message once both have loaded, so their opens overlap; many rounds, because one round may
// not hit the window.
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";

const ROUNDS = 30;
const fixture = new URL("../fixtures/open-store.mjs", import.meta.url);

type Reply = { type: "loaded" } | { type: "opened" } | { type: "failed"; message: string };

function opener(): { child: ChildProcess; loaded: Promise<void>; result: Promise<Reply> } {
  const child = fork(fixture, [], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  let markLoaded: () => void;
  const loaded = new Promise<void>((resolve) => {
    markLoaded = resolve;
  });
  const result = new Promise<Reply>((resolve) => {
    child.on("message", (m: Reply) => (m.type === "loaded" ? markLoaded() : resolve(m)));
    child.once("exit", (code) => resolve({ type: "failed", message: `exited with code ${code} ${stderr}` }));
  });
  return { child, loaded, result };
}

it(`two processes opening the same fresh SQLite file at once both succeed (${ROUNDS} rounds)`, async () => {
  const failures: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const dataDir = mkdtempSync(join(tmpdir(), "kaireon-sqlite-open-"));
    try {
      const openers = [opener(), opener()];
      await Promise.all(openers.map((o) => o.loaded));
      for (const o of openers) o.child.send(dataDir);
      for (const reply of await Promise.all(openers.map((o) => o.result))) {
        if (reply.type === "failed") failures.push(`round ${round}: ${reply.message}`);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  expect(failures).toEqual([]);
}, 120_000);
