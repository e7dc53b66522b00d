// Release gate: fails when a topic's JSON Schema (packages/events-core/schemas/<topic>.json, as in
// the work tree) changed incompatibly since the last release, naming the topic, the field and the
// rule; a compatible change passes only with a pending minor changeset of core. The rules are in
// topic-compat.mjs, the recipe for an incompatible change (a new `.v2` topic) in core's README.
//
// The schemas of "the last release" come from git, at the first of:
//   1. --base <ref> (or KAIREON_COMPAT_BASE): the merge base of HEAD and that ref, e.g. origin/main
//      on a pull request, or a release tag;
//   2. the last release of core: the newest `@kaireon/events-core@x.y.z` tag (changeset publish) or
//      the last commit that wrote packages/events-core/CHANGELOG.md (changeset version; the same
//      marker check-changesets.mjs uses), whichever is later;
//   3. no release yet: the commit that first added the schemas. The contract as first written is
//      the baseline, so the gate already refuses a breaking change before the first release.
//   node tooling/release/check-topic-compat.mjs [--base <ref>] [--root <repo>]
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { compareTopics, pendingBump, verdict } from "./topic-compat.mjs";

const CORE = "@kaireon/events-core";
const CORE_DIR = "packages/events-core";
const SCHEMAS = `${CORE_DIR}/schemas`;

const { values } = parseArgs({
  options: { base: { type: "string" }, root: { type: "string" } },
});
const root = values.root ?? fileURLToPath(new URL("../..", import.meta.url));
const git = (...args) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const fail = (message) => {
  console.error(`check-topic-compat: ${message}`);
  process.exit(1);
};

if (git("rev-parse", "--is-shallow-repository") === "true") {
  try {
    git("fetch", "--quiet", "--unshallow", "--tags");
  } catch {}
}
if (git("rev-parse", "--is-shallow-repository") === "true") {
  fail("this clone is shallow; fetch the full history and tags first (git fetch --unshallow --tags, or fetch-depth: 0)");
}

function baseline() {
  const explicit = values.base ?? process.env.KAIREON_COMPAT_BASE;
  if (explicit) {
    let commit;
    try {
      commit = git("merge-base", "HEAD", explicit);
    } catch {
      fail(`--base ${explicit}: no such ref, or no common history with HEAD — pass a branch, tag or commit (e.g. origin/main)`);
    }
    return { commit, why: `merge base of HEAD and ${explicit}` };
  }
  const candidates = [];
  const changelog = git("log", "-1", "--format=%H", "--", `${CORE_DIR}/CHANGELOG.md`);
  if (changelog) candidates.push({ commit: changelog, why: `last release commit (wrote ${CORE_DIR}/CHANGELOG.md)` });
  const tag = git("tag", "--list", `${CORE}@*`, "--merged", "HEAD", "--sort=-v:refname").split("\n").filter(Boolean)[0];
  if (tag) candidates.push({ commit: git("rev-list", "-n", "1", tag), why: `release tag ${tag}` });
  if (candidates.length > 0) {
    // The later of the two (the one the other is an ancestor of); the tag when both are one commit.
    const isAncestor = (a, b) => {
      try {
        git("merge-base", "--is-ancestor", a, b);
        return true;
      } catch {
        return false;
      }
    };
    return candidates.reduce((a, b) => (isAncestor(a.commit, b.commit) ? b : a));
  }
  const first = git("log", "--reverse", "--diff-filter=A", "--format=%H", "--", SCHEMAS).split("\n").filter(Boolean)[0];
  if (!first) return undefined;
  return { commit: first, why: `no release of ${CORE} yet: the commit that first added ${SCHEMAS}` };
}

function schemasAt(commit) {
  const out = {};
  const files = git("ls-tree", "--name-only", `${commit}:${SCHEMAS}`)
    .split("\n")
    .filter((f) => f.endsWith(".json"));
  for (const file of files) out[file.replace(/\.json$/, "")] = JSON.parse(git("show", `${commit}:${SCHEMAS}/${file}`));
  return out;
}

function schemasNow() {
  const dir = join(root, SCHEMAS);
  const out = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    try {
      out[file.replace(/\.json$/, "")] = JSON.parse(readFileSync(join(dir, file), "utf8"));
    } catch (error) {
      fail(`${SCHEMAS}/${file} is not JSON (${error.message}) — regenerate it: pnpm --filter ${CORE} gen:schemas`);
    }
  }
  return out;
}

const base = baseline();
if (!base) {
  console.log(`check-topic-compat: ${SCHEMAS} has no history yet; nothing to compare`);
  process.exit(0);
}
const changesetDir = join(root, ".changeset");
const changesets = existsSync(changesetDir)
  ? readdirSync(changesetDir)
      .filter((f) => f.endsWith(".md") && f !== "README.md")
      .map((f) => readFileSync(join(changesetDir, f), "utf8"))
  : [];
const bump = pendingBump(changesets, CORE);
const before = schemasAt(base.commit);
const after = schemasNow();
const changes = compareTopics(before, after);
const result = verdict(changes, bump, CORE);

console.log(
  `check-topic-compat: ${Object.keys(after).length} topic(s) against ${base.commit.slice(0, 7)} (${base.why}); pending ${CORE} bump: ${bump}`,
);
for (const note of result.notes) console.log(`  ok   ${note}`);
if (!result.ok) {
  console.error(`\ncheck-topic-compat: ${result.failures.length} problem(s)\n${result.failures.map((x) => `  - ${x}`).join("\n")}`);
  process.exit(1);
}
console.log(
  changes.length === 0
    ? "check-topic-compat: no topic schema changed"
    : `check-topic-compat: ${changes.length} compatible change(s), covered by a ${bump} changeset of ${CORE}`,
);
