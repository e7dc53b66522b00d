// The workspace's packages as pnpm sees them, so every release script discovers packages instead
// of hard-coding a list: a backend merged tomorrow is checked, versioned and published like core.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));

/** Every workspace package except the root: { name, version, dir, rel, private, manifest }. */
export function workspacePackages() {
  const listed = JSON.parse(execFileSync("pnpm", ["ls", "-r", "--depth", "-1", "--json"], { cwd: root, encoding: "utf8" }));
  return listed
    .filter((p) => p.path !== root.replace(/\/$/, ""))
    .map((p) => {
      const manifest = JSON.parse(readFileSync(join(p.path, "package.json"), "utf8"));
      return {
        name: p.name,
        version: manifest.version,
        dir: p.path,
        rel: relative(root, p.path),
        private: manifest.private === true,
        manifest,
      };
    })
    .sort((a, b) => a.rel.localeCompare(b.rel));
}

/** The packages users install: not private. Only packages/* may be public (checked by check-packages). */
export function publishedPackages() {
  return workspacePackages().filter((p) => !p.private);
}
