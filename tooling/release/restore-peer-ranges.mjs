// Runs after `changeset version` (part of pnpm version-packages). When a sibling's new version leaves
// a peer range such as "workspace:>=0.1.0 <1.0.0", changesets rewrites it to "workspace:>=1.0.0"
// — no upper bound, so the dependent would claim to work with every future major. This puts the
// bound back: "workspace:>=X.Y.Z <(X+1).0.0". Ranges that have an upper bound are left alone.
// tooling/release/peer-ranges.test.mjs shows changesets still does this, and that this undoes it.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { workspacePackages } from "./workspace.mjs";

for (const p of workspacePackages()) {
  const file = join(p.dir, "package.json");
  const text = readFileSync(file, "utf8");
  const manifest = JSON.parse(text);
  let changed = false;
  for (const [dep, range] of Object.entries(manifest.peerDependencies ?? {})) {
    const m = /^workspace:>=(\d+)\.(\d+)\.(\d+)$/.exec(range);
    if (!dep.startsWith("@kaireon/") || !m) continue;
    const next = `workspace:>=${m[1]}.${m[2]}.${m[3]} <${Number(m[1]) + 1}.0.0`;
    manifest.peerDependencies[dep] = next;
    changed = true;
    console.log(`${p.name}: peerDependencies.${dep} "${range}" -> "${next}"`);
  }
  if (changed) writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}
