#!/usr/bin/env bash
# A dry-run release from a clean clone: applies the pending changesets (pnpm version-packages) in a
# throwaway clone of HEAD, builds, packs what `pnpm release` would publish, and prints per package
# the version change, the new CHANGELOG entry and the packed @kaireon/* ranges. Fails if a private
# package was versioned, got a changelog or would be packed, or if a packed range still says
# workspace:. Publishes nothing; talks to no registry.
#   bash tooling/release/dry-run.sh      (pnpm release:dry-run)
set -euo pipefail
# shellcheck source=tooling/release/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$RELEASE_ROOT"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kaireon-dry-run.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
echo "pending changesets: $(find .changeset -name '*.md' ! -name README.md -printf '%f ' | sed 's/ $//')"
release_clone "$WORK/repo"
cd "$WORK/repo"
(TURBO_TELEMETRY_DISABLED=1 pnpm turbo run build --output-logs=errors-only >"$WORK/build.log" 2>&1) || {
  tail -n 30 "$WORK/build.log"
  exit 1
}
node --input-type=module - "$WORK/packs" <<'JS'
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { workspacePackages } from "./tooling/release/workspace.mjs";

const out = process.argv[2];
const git = (...a) => execFileSync("git", a, { encoding: "utf8" }).trim();
const changed = git("status", "--porcelain").split("\n").filter(Boolean).map((l) => l.slice(3));
const problems = [];
for (const p of workspacePackages()) {
  const before = JSON.parse(git("show", `HEAD:${p.rel}/package.json`)).version;
  const touched = changed.filter((f) => f.startsWith(`${p.rel}/`));
  if (p.private) {
    if (touched.length > 0) problems.push(`private ${p.name} was changed by version-packages: ${touched.join(", ")}`);
    console.log(`\n${p.name} (private): ${before}, untouched, not published`);
    continue;
  }
  const packed = JSON.parse(execFileSync("pnpm", ["pack", "--pack-destination", out, "--json"], { cwd: p.dir, encoding: "utf8" }));
  const m = JSON.parse(execFileSync("tar", ["xzf", packed.filename, "-O", "package/package.json"], { encoding: "utf8" }));
  const ranges = Object.entries({ ...m.dependencies, ...m.peerDependencies }).filter(([d]) => d.startsWith("@kaireon/"));
  for (const [d, r] of ranges) if (r.startsWith("workspace:")) problems.push(`${p.name}: packed range for ${d} is "${r}"`);
  console.log(`\n${p.name}: ${before} -> ${m.version}${before === m.version ? " (unchanged)" : ""}  tarball ${packed.filename.split("/").pop()} (${packed.files.length} files)`);
  for (const [field, deps] of [["dependencies", m.dependencies], ["peerDependencies", m.peerDependencies]])
    for (const [d, r] of Object.entries(deps ?? {})) if (d.startsWith("@kaireon/")) console.log(`  ${field}.${d}: "${r}"`);
  const log = join(p.dir, "CHANGELOG.md");
  if (existsSync(log)) {
    const entry = readFileSync(log, "utf8").split(/^## /m)[1];
    console.log(`  CHANGELOG.md:\n${`## ${entry}`.trimEnd().replace(/^/gm, "    ")}`);
  } else console.log("  CHANGELOG.md: none (not released yet, no pending changeset)");
}
if (problems.length) {
  console.error(`\ndry-run: ${problems.length} problem(s)\n${problems.map((x) => `  - ${x}`).join("\n")}`);
  process.exit(1);
}
console.log("\ndry-run: OK — nothing was published");
JS
