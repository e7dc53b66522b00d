// The backends' structure check (structure.mjs) on scratch backends: it passes the workspace's own,
// and fails a missing role file, a second file of a role, a helper not named <id>-*, a root import.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { backendStructure } from "./structure.mjs";
import { workspacePackages } from "./workspace.mjs";

const scratch = mkdtempSync(join(tmpdir(), "kaireon-structure-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A backend package `@kaireon/events-demo` with these src files (index.ts calls defineBackend). */
function backend(name, files) {
  const dir = join(scratch, name);
  mkdirSync(join(dir, "src"), { recursive: true });
  for (const [file, text] of Object.entries({ "index.ts": "export const backend = defineBackend({});\n", ...files }))
    writeFileSync(join(dir, "src", file), text);
  return { name: "@kaireon/events-demo", dir, rel: `packages/${name}` };
}

const complete = {
  "demo-options.ts": "",
  "demo-client.ts": 'import { ConnectionError } from "@kaireon/events-core/backend";\n',
  "demo-publisher.ts": "",
  "demo-subscriber.ts": "",
};
const messages = (p) => backendStructure([p]).problems.map((x) => x.message);

test("the workspace's backends pass", () => {
  const { problems, backends } = backendStructure(workspacePackages());
  assert.deepEqual(problems, []);
  assert.ok(backends >= 5, `only ${backends} backend(s) found`);
});

test("the five role files and a helper named <id>-<what>.ts pass", () => {
  assert.deepEqual(messages(backend("complete", { ...complete, "demo-scripts.ts": "" })), []);
});

test("a missing role file fails, naming it", () => {
  const { "demo-subscriber.ts": _, ...rest } = complete;
  assert.match(messages(backend("missing", rest)).join("\n"), /src\/demo-subscriber\.ts is missing/);
});

test("a second file of a role fails, naming where its content belongs", () => {
  const found = messages(backend("extra", { ...complete, "demo-errors.ts": "", "demo-config.ts": "" })).join("\n");
  assert.match(found, /demo-errors\.ts is a second client file: move its content into demo-client\.ts/);
  assert.match(found, /demo-config\.ts is a second options file: move its content into demo-options\.ts/);
});

test("a file not named after the backend fails", () => {
  assert.match(messages(backend("stray", { ...complete, "helpers.ts": "" })).join("\n"), /helpers\.ts is not a role file/);
});

test("an import of core's root fails", () => {
  const found = messages(backend("root", { ...complete, "demo-client.ts": 'import { sleep } from "@kaireon/events-core";\n' })).join("\n");
  assert.match(found, /demo-client\.ts imports the root "@kaireon\/events-core"/);
});
