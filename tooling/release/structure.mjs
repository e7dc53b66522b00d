// The backends' shape and the import graph, checked by check-packages.mjs (and structure.test.mjs).
//
// Every backend package has the same shape, so a reader finds the same thing in the same file in
// each. A backend is a package whose src/index.ts calls defineBackend; its id is the package name's
// tail (@kaireon/events-<id>). Rule: src/ holds the five role files index.ts, <id>-options.ts,
// <id>-client.ts (transport and error mapping), <id>-publisher.ts, <id>-subscriber.ts, and no second
// file of a role (<id>-errors.ts: error mapping is the client's; <id>-config.ts, <id>-env.ts: the
// options'); any other file is a helper named <id>-<what>.ts (msk-iam-token.ts, kafka-client-platformatic.ts);
// and src/ imports core only through @kaireon/events-core/backend, never the root (which reaches the
// loader: an import cycle).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROLES = ["options", "client", "publisher", "subscriber"];
/** File names that would be a second file of a role, and the role file their content belongs in. */
const SECOND_OF_ROLE = { errors: "client", error: "client", config: "options", env: "options" };

/** Problems of the backends among `packages` ({ name, dir, rel }): [{ pkg, message }], and how many backends. */
export function backendStructure(packages) {
  const problems = [];
  const fail = (pkg, message) => problems.push({ pkg, message });
  const backends = packages.filter((p) => {
    const index = join(p.dir, "src", "index.ts");
    return existsSync(index) && /\bdefineBackend\s*[<(]/.test(readFileSync(index, "utf8"));
  });
  if (backends.length === 0)
    fail("workspace", "no backend package found (src/index.ts calling defineBackend): is the structure check looking in the right place?");
  for (const p of backends) {
    const id = p.name.replace(/^@kaireon\/events-/, "");
    const files = readdirSync(join(p.dir, "src")).filter((f) => f.endsWith(".ts"));
    const roleFiles = ["index.ts", ...ROLES.map((r) => `${id}-${r}.ts`)];
    for (const role of roleFiles)
      if (!files.includes(role)) fail(p.name, `${p.rel}/src/${role} is missing: every backend has ${roleFiles.join(", ")}`);
    for (const f of files) {
      const what = f.startsWith(`${id}-`) ? f.slice(id.length + 1, -3) : undefined;
      if (f !== "index.ts" && what === undefined)
        fail(p.name, `${p.rel}/src/${f} is not a role file: name it ${id}-<what>.ts or move it into one`);
      else if (what !== undefined && what in SECOND_OF_ROLE)
        fail(
          p.name,
          `${p.rel}/src/${f} is a second ${SECOND_OF_ROLE[what]} file: move its content into ${id}-${SECOND_OF_ROLE[what]}.ts (every backend has one file per role)`,
        );
      const text = readFileSync(join(p.dir, "src", f), "utf8");
      if (/from\s+["']@kaireon\/events-core["']|import\(\s*["']@kaireon\/events-core["']/.test(text))
        fail(p.name, `${p.rel}/src/${f} imports the root "@kaireon/events-core": a backend imports "@kaireon/events-core/backend" only`);
    }
  }
  return { problems, backends: backends.length };
}

/**
 * Import cycles among the built modules of `packages` (dependency-cruiser, rules in
 * import-cycles.depcruise.mjs), between packages and within one: [{ pkg, message }].
 */
export function importCycles(root, packages) {
  const dists = packages.map((p) => `${p.rel}/dist`).filter((d) => existsSync(join(root, d)));
  const run = spawnSync(
    join(root, "node_modules", ".bin", "depcruise"),
    ["--config", join(root, "tooling", "release", "import-cycles.depcruise.mjs"), "--output-type", "err", ...dists],
    { cwd: root, encoding: "utf8" },
  );
  if (run.status === 0) return [];
  const text = `${run.stdout ?? ""}${run.stderr ?? ""}`.trim() || String(run.error);
  return [{ pkg: "workspace", message: `import cycle(s) among the built modules (dependency-cruiser):\n${text}` }];
}
