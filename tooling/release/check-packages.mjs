// Checks every published package as it will be packed, not as it sits in the workspace: packs each
// non-private workspace package with pnpm (which rewrites workspace: ranges exactly as publish does),
// then runs publint --strict and @arethetypeswrong/cli (esm-only profile: these packages are ESM
// only, so CommonJS resolution is out of scope) on the tarball, plus the house rules publint does
// not know: sideEffects, engines, README/LICENSE, repository.directory, public access, no leftover
// workspace: or catalog: ranges, peer ranges on @kaireon/* that a core minor does not break, the
// backends' file structure, no import cycle (structure.mjs) and the dependency catalog.
// Needs built packages (`pnpm build`). Exit 1 lists every problem of every package.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { backendStructure, importCycles } from "./structure.mjs";
import { root, workspacePackages } from "./workspace.mjs";

const bin = (name) => join(root, "node_modules", ".bin", name);
const problems = [];
const fail = (pkg, message) => problems.push(`${pkg}: ${message}`);
const work = mkdtempSync(join(tmpdir(), "kaireon-pack-check-"));

// Shared dependency versions are pinned once, in pnpm-workspace.yaml's `catalog:`. Rule: a dependency
// (dependencies, devDependencies, optionalDependencies; not peers, which are each package's own
// promise) that two or more workspace packages (the root included) use is `catalog:` in every one of
// them; every `catalog:` names an entry; every entry is used. The packed manifest is checked below
// for a leftover `catalog:` (pnpm writes the version when it packs).
function checkCatalog(packages) {
  const catalog = new Map(Object.entries(parse(readFileSync(join(root, "pnpm-workspace.yaml"), "utf8"))?.catalog ?? {}));
  if (catalog.size === 0) fail("pnpm-workspace.yaml", "has no catalog: entries (shared dependency versions are pinned there)");
  const rootManifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const manifests = [
    { name: "(root)", rel: "package.json", manifest: rootManifest },
    ...packages.map((p) => ({ ...p, rel: `${p.rel}/package.json` })),
  ];
  const users = new Map();
  for (const { name, rel, manifest } of manifests) {
    for (const field of ["dependencies", "devDependencies", "optionalDependencies"]) {
      for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
        if (String(range).startsWith("workspace:")) continue;
        if (!users.has(dep)) users.set(dep, []);
        users.get(dep).push({ name, rel, field, range });
        if (range === "catalog:" && !catalog.has(dep))
          fail(name, `${rel} ${field}.${dep} says "catalog:" but pnpm-workspace.yaml's catalog has no ${dep}: add it there`);
      }
    }
  }
  for (const [dep, uses] of users) {
    if (uses.length < 2 && !catalog.has(dep)) continue;
    for (const u of uses)
      if (u.range !== "catalog:")
        fail(
          u.name,
          `${u.rel} ${u.field}.${dep} is "${u.range}", but ${dep} is ${uses.length > 1 ? `used by ${uses.length} packages` : "in the catalog"}: write "catalog:" and keep the version in pnpm-workspace.yaml's catalog`,
        );
  }
  for (const dep of catalog.keys())
    if (!users.has(dep)) fail("pnpm-workspace.yaml", `catalog entry ${dep} is used by no package: remove it`);
  return catalog.size;
}

const all = workspacePackages();
for (const p of all) {
  if (!p.private && !p.rel.startsWith("packages/")) fail(p.name, `${p.rel} is outside packages/ and not private: add "private": true`);
  if (p.rel.startsWith("packages/") && p.private) console.log(`skip ${p.name} (private)`);
}
const structure = backendStructure(all);
for (const { pkg, message } of structure.problems) fail(pkg, message);
console.log(`structure: ${structure.backends} backend package(s) checked for their role files`);
const cycles = importCycles(root, all);
for (const { pkg, message } of cycles) fail(pkg, message);
console.log(
  `imports: ${cycles.length === 0 ? "no import cycle" : "import cycles (below)"} among the built modules of ${all.length} package(s)`,
);
const catalogCount = checkCatalog(all);
console.log(`catalog: ${catalogCount} shared dependency version(s), every shared dependency checked`);
const published = all.filter((p) => !p.private);
if (published.length === 0) fail("workspace", "no published package found: is this the repository root?");

for (const p of published) {
  const src = p.manifest;
  // Source-level rule: peer ranges on sibling packages must be ranges that survive a minor bump of
  // the sibling (workspace:^ becomes ^0.1.0 when packed, which excludes 0.2.0 and forces a major).
  for (const [dep, range] of Object.entries(src.peerDependencies ?? {})) {
    if (!dep.startsWith("@kaireon/")) continue;
    if (!range.startsWith("workspace:")) fail(p.name, `peerDependencies.${dep} "${range}" should use the workspace: protocol with a range`);
    else if (["workspace:*", "workspace:^", "workspace:~"].includes(range) || /^workspace:[\^~]?\d/.test(range))
      fail(
        p.name,
        `peerDependencies.${dep} "${range}" pins the current version; use "workspace:>=0.1.0 <1.0.0" so a core minor stays in range`,
      );
    else if (!range.includes("<"))
      fail(
        p.name,
        `peerDependencies.${dep} "${range}" has no upper bound: a future major would satisfy it (pnpm version-packages restores it)`,
      );
  }
  if (!existsSync(join(p.dir, "dist"))) {
    fail(p.name, `${p.rel}/dist is missing: run pnpm build first`);
    continue;
  }

  const dest = join(work, p.name.replace(/[@/]/g, "_"));
  const packed = JSON.parse(execFileSync("pnpm", ["pack", "--pack-destination", dest, "--json"], { cwd: p.dir, encoding: "utf8" }));
  const tgz = packed.filename;
  const files = new Set(packed.files.map((f) => f.path));
  execFileSync("tar", ["xzf", tgz, "-C", dest]);
  const m = JSON.parse(readFileSync(join(dest, "package", "package.json"), "utf8"));

  if (m.type !== "module") fail(p.name, `"type" must be "module" (is ${JSON.stringify(m.type)})`);
  if (m.sideEffects !== false) fail(p.name, `"sideEffects" must be false`);
  if (!m.engines?.node) fail(p.name, `"engines.node" is missing`);
  if (!m.license) fail(p.name, `"license" is missing`);
  if (!Array.isArray(m.files) || m.files.length === 0) fail(p.name, `"files" is missing: without it the tarball ships tests and sources`);
  if (m.publishConfig?.access !== "public")
    fail(p.name, `"publishConfig.access" must be "public" (scoped packages are private by default)`);
  if (!m.description) fail(p.name, `"description" is missing`);
  if (m.repository?.directory !== p.rel)
    fail(p.name, `"repository.directory" must be "${p.rel}" (is ${JSON.stringify(m.repository?.directory)})`);
  if (!m.repository?.url) fail(p.name, `"repository.url" is missing (npm provenance needs it to match the repository)`);
  if (!files.has("README.md")) fail(p.name, "README.md is not in the tarball");
  if (!files.has("LICENSE")) fail(p.name, "LICENSE is not in the tarball");
  for (const f of files) if (/^(src|test|bench)\//.test(f) || f.endsWith(".tsbuildinfo")) fail(p.name, `tarball ships ${f}`);
  const dot = m.exports?.["."];
  if (!dot || typeof dot !== "object") fail(p.name, `"exports" needs a "." entry with "types" and "default"`);
  else {
    if (Object.keys(dot)[0] !== "types") fail(p.name, `exports["."].types must come first`);
    for (const cond of ["types", "default"]) {
      const target = dot[cond];
      if (typeof target !== "string") fail(p.name, `exports["."].${cond} is missing`);
      else if (!files.has(target.replace(/^\.\//, ""))) fail(p.name, `exports["."].${cond} -> ${target} is not in the tarball`);
    }
  }
  if (m.exports?.["./package.json"] !== "./package.json") fail(p.name, `exports["./package.json"] is missing`);
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies", "devDependencies"]) {
    for (const [dep, range] of Object.entries(m[field] ?? {}))
      if (/^(workspace|catalog):/.test(String(range))) fail(p.name, `packed ${field}.${dep} still says "${range}"`);
  }

  console.log(`\n== ${p.name}@${m.version} (${files.size} files)`);
  const publint = spawnSync(bin("publint"), ["run", tgz, "--strict"], { encoding: "utf8" });
  process.stdout.write(publint.stdout + publint.stderr);
  if (publint.status !== 0) fail(p.name, "publint --strict reported problems (above)");
  const attw = spawnSync(bin("attw"), [tgz, "--profile", "esm-only", "--format", "table-flipped", "--no-color", "--no-emoji"], {
    encoding: "utf8",
  });
  process.stdout.write(attw.stdout + attw.stderr);
  if (attw.status !== 0) fail(p.name, "@arethetypeswrong/cli --profile esm-only reported problems (above)");
}
rmSync(work, { recursive: true, force: true });

if (problems.length > 0) {
  console.error(`\ncheck-packages: ${problems.length} problem(s)\n${problems.map((x) => `  - ${x}`).join("\n")}`);
  process.exit(1);
}
console.log(`\ncheck-packages: ${published.length} package(s) OK: ${published.map((p) => p.name).join(", ")}`);
