// Fails when a published package's source changed since its last release and no pending changeset
// names it. "Since its last release" is the last commit that touched the package's CHANGELOG.md
// (`changeset version` writes it); a package never released needs a pending changeset as soon as it
// exists. This needs no branch name or merge base, so it gives the same answer on a feature branch,
// on a pull request and on a clean clone of main whose HEAD is the tip; it only needs full history.
//
// Source = src/, the package's published `files` other than dist/, and the published fields of
// package.json (dependencies, peerDependencies, exports, engines, bin). Tests, benches, READMEs
// and scripts need no changeset. Also fails on a changeset naming an unknown or private package, and
// on one changesets cannot read (read by its own reader, @changesets/read, as `changeset version` does).
//
// Why not `changeset status`: it compares one base branch for every package (`--since`, by default
// config.json's baseBranch, which a clean clone of main at its tip diffs against itself), counts any
// file of a package (tests, README), reads only the changesets added since that base, and fails only
// when there is no changeset at all — not "this changed package has none".
//   node tooling/release/check-changesets.mjs
import { execFileSync } from "node:child_process";
import readChangesets from "@changesets/read";
import { root, workspacePackages } from "./workspace.mjs";

const git = (...args) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
const problems = [];

if (git("rev-parse", "--is-shallow-repository") === "true") {
  try {
    git("fetch", "--quiet", "--unshallow");
  } catch {}
}
if (git("rev-parse", "--is-shallow-repository") === "true") {
  console.error("check-changesets: this clone is shallow; fetch the full history first (git fetch --unshallow, or fetch-depth: 0)");
  process.exit(1);
}

// Pending changesets: the packages each names. A malformed front matter or an unknown bump type is
// changesets' own error, with its message.
const pending = new Map(); // package name -> [changeset files]
let changesets;
try {
  changesets = await readChangesets(root);
} catch (error) {
  console.error(`check-changesets: changesets cannot read a pending changeset:\n${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
for (const { id, releases } of changesets) {
  if (releases.length === 0) problems.push(`.changeset/${id}.md names no package`);
  for (const { name } of releases) pending.set(name, [...(pending.get(name) ?? []), `${id}.md`]);
}

const packages = workspacePackages();
const byName = new Map(packages.map((p) => [p.name, p]));
for (const [name, files] of pending) {
  const p = byName.get(name);
  if (!p) problems.push(`${files.join(", ")} names ${name}, which is not a workspace package`);
  else if (p.private) problems.push(`${files.join(", ")} names ${name}, which is private and never released`);
}

const publishedFields = ["dependencies", "peerDependencies", "optionalDependencies", "exports", "engines", "bin", "main", "types"];
const pick = (manifest) => JSON.stringify(publishedFields.map((f) => manifest?.[f] ?? null));

for (const p of packages.filter((x) => !x.private)) {
  const lastRelease = git("log", "-1", "--format=%H", "--", `${p.rel}/CHANGELOG.md`);
  const named = pending.has(p.name);
  if (!lastRelease) {
    if (!named) problems.push(`${p.name} has never been released and no pending changeset names it: run pnpm changeset`);
    else console.log(`${p.name}: first release pending (${pending.get(p.name).join(", ")})`);
    continue;
  }
  const sourcePaths = ["src", ...(p.manifest.files ?? []).filter((f) => !/^\.?\/?dist\b/.test(f))].map((f) => `${p.rel}/${f}`);
  const changed = git("diff", "--name-only", lastRelease, "--", ...sourcePaths)
    .split("\n")
    .filter(Boolean);
  let before;
  try {
    before = JSON.parse(git("show", `${lastRelease}:${p.rel}/package.json`));
  } catch {
    before = undefined;
  }
  // The release commit itself moves versions in dependency ranges; compare what it left.
  if (pick(before) !== pick(p.manifest)) changed.push(`${p.rel}/package.json (published fields)`);
  if (changed.length === 0) console.log(`${p.name}: unchanged since ${lastRelease.slice(0, 7)}`);
  else if (named) console.log(`${p.name}: ${changed.length} changed file(s), covered by ${pending.get(p.name).join(", ")}`);
  else
    problems.push(
      `${p.name} changed since its last release (${lastRelease.slice(0, 7)}) and no pending changeset names it: ${changed.slice(0, 5).join(", ")}${changed.length > 5 ? ", ..." : ""} — run pnpm changeset`,
    );
}

if (problems.length > 0) {
  console.error(`\ncheck-changesets: ${problems.length} problem(s)\n${problems.map((x) => `  - ${x}`).join("\n")}`);
  process.exit(1);
}
console.log("check-changesets: every changed package has a changeset");
