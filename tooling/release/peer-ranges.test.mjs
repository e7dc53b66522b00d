// Why restore-peer-ranges.mjs exists, and that it works: in a scratch clone, a first release
// (`changeset version` on the pending changesets), then a core major. changesets rewrites the backends'
// peer range "workspace:>=0.1.0 <1.0.0" to "workspace:>=1.0.0" — no upper bound — and
// restore-peer-ranges.mjs (part of `pnpm version-packages`) puts "<2.0.0" back. When a changesets
// release keeps the bound itself, the first assertion fails and says to drop the script.
//   node --test tooling/release/peer-ranges.test.mjs
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { root } from "./workspace.mjs";

const work = mkdtempSync(join(tmpdir(), "kaireon-peer-ranges-"));
after(() => rmSync(work, { recursive: true, force: true }));
const repo = join(work, "repo");
const sh = (cmd, args) => execFileSync(cmd, args, { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const changeset = (...args) => sh(process.execPath, [join(root, "node_modules/@changesets/cli/bin.js"), ...args]);

// Peer ranges on sibling @kaireon packages: "<package> <dependency>" -> range.
function kaireonPeers() {
  const ranges = new Map();
  for (const dir of readdirSync(join(repo, "packages"))) {
    const manifest = JSON.parse(readFileSync(join(repo, "packages", dir, "package.json"), "utf8"));
    for (const [dep, range] of Object.entries(manifest.peerDependencies ?? {}))
      if (dep.startsWith("@kaireon/")) ranges.set(`${manifest.name} ${dep}`, range);
  }
  return ranges;
}

test("changeset version drops a peer range's upper bound on a core major; version-packages restores it", () => {
  execFileSync("git", ["clone", "--quiet", "--shared", root, repo]);
  // changesets needs only the manifests and its own CLI (and changelog module): the workspace's.
  symlinkSync(join(root, "node_modules"), join(repo, "node_modules"));
  assert.match(
    JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).scripts["version-packages"],
    /changeset version && node tooling\/release\/restore-peer-ranges\.mjs/,
    "pnpm version-packages no longer runs restore-peer-ranges.mjs after changeset version",
  );

  changeset("version"); // the first release: every pending changeset
  const core = JSON.parse(readFileSync(join(repo, "packages/events-core/package.json"), "utf8")).version;
  assert.match(core, /^0\./, `core is ${core} after the first release; this test assumes a 0.x core`);
  const first = kaireonPeers();
  assert.ok(first.size > 0, "no package has a @kaireon peer dependency");
  for (const [at, range] of first) assert.match(range, /^workspace:>=0\.\d+\.\d+ <1\.0\.0$/, `${at}: "${range}" after the first release`);
  for (const f of readdirSync(join(repo, ".changeset")))
    if (f.endsWith(".md") && f !== "README.md") unlinkSync(join(repo, ".changeset", f));
  writeFileSync(join(repo, ".changeset/core-major.md"), '---\n"@kaireon/events-core": major\n---\n\nA core major.\n');

  changeset("version");
  const unbounded = [...kaireonPeers()].filter(([, range]) => /^workspace:>=1\.0\.0$/.test(range));
  assert.ok(
    unbounded.length > 0,
    `changeset version kept the upper bounds itself (${[...kaireonPeers().values()].join(", ")}): restore-peer-ranges.mjs can go`,
  );

  sh(process.execPath, ["tooling/release/restore-peer-ranges.mjs"]);
  for (const [at, range] of kaireonPeers()) assert.equal(range, "workspace:>=1.0.0 <2.0.0", `${at} after restore-peer-ranges.mjs`);
});
