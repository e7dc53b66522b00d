// Lists every package installed under <app>/node_modules, whatever the layout (npm's flat tree,
// pnpm's .pnpm store links), and fails when one the app must not pull in is there: a Redis-only
// app has no business carrying kafkajs or the AWS SDK.
//   node list-installed.mjs <app-dir> [--forbid kafkajs,@aws-sdk/,@smithy/]
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const app = process.argv[2];
const forbidArg = process.argv.indexOf("--forbid");
const forbidden = (forbidArg > 0 ? process.argv[forbidArg + 1] : "kafkajs,@aws-sdk/,@smithy/").split(",").filter(Boolean);
const found = new Map(); // name -> Set(version)
let bytes = 0;

function size(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) size(path);
    else if (entry.isFile()) bytes += statSync(path).size;
  }
}

function walk(nodeModules) {
  if (!existsSync(nodeModules)) return;
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (entry.name === ".bin") continue;
    const path = join(nodeModules, entry.name);
    if (entry.name === ".pnpm") {
      for (const slot of readdirSync(path, { withFileTypes: true })) if (slot.isDirectory()) walk(join(path, slot.name, "node_modules"));
      continue;
    }
    if (entry.name.startsWith("@") && entry.isDirectory()) {
      for (const scoped of readdirSync(path, { withFileTypes: true })) visit(join(path, scoped.name), scoped);
      continue;
    }
    visit(path, entry);
  }
}

function visit(path, entry) {
  if (entry.isSymbolicLink()) return; // pnpm links: the real copy lives in .pnpm
  if (!entry.isDirectory() || !existsSync(join(path, "package.json"))) return;
  const { name, version } = JSON.parse(readFileSync(join(path, "package.json"), "utf8"));
  if (name) {
    if (!found.has(name)) found.set(name, new Set());
    found.get(name).add(version);
  }
  walk(join(path, "node_modules"));
}

walk(join(app, "node_modules"));
size(join(app, "node_modules"));
const names = [...found.keys()].sort();
console.log(`${names.length} packages, ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${join(app, "node_modules")}:`);
console.log(names.map((n) => `${n}@${[...found.get(n)].join("|")}`).join(" "));
const bad = names.filter((n) => forbidden.some((f) => (f.endsWith("/") ? n.startsWith(f) : n === f)));
if (bad.length > 0) {
  console.error(`FAIL: installed but not wanted: ${bad.join(", ")}`);
  process.exit(1);
}
console.log(`none of ${forbidden.join(", ")} installed`);
