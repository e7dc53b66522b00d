// Adds up the vitest JSON reports in KAIREON_REPORT_DIR (tooling/test.sh, .ci/run) and prints, per
// run (the Node version it ran on, plus KAIREON_RUN_LABEL's tag such as a Kafka version), one line
// per package and "node-<version>: N passed, N failed, N skipped", then a closing total line.
// Exits non-zero when a test failed, none ran, or (in CI) one was skipped.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.KAIREON_REPORT_DIR;
if (!dir) throw new Error("KAIREON_REPORT_DIR is not set");
const line = (c) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
const add = (into, c) => {
  into.passed += c.passed;
  into.failed += c.failed;
  into.skipped += c.skipped;
};
const zero = () => ({ passed: 0, failed: 0, skipped: 0 });

const total = zero();
/** @type {Map<string, { sum: ReturnType<typeof zero>, packages: Map<string, ReturnType<typeof zero>> }>} */
const runs = new Map();
for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
  const report = JSON.parse(readFileSync(join(dir, file), "utf8"));
  // <package>~node-<version>[+<label>]~<pid>-<time>.json (tooling/vitest-base.mjs)
  const [pkg, run = "node-unknown"] = file.split("~");
  const counts = {
    passed: report.numPassedTests,
    failed: report.numFailedTests + (report.numFailedTestSuites ?? 0),
    skipped: report.numPendingTests + (report.numTodoTests ?? 0),
  };
  const r = runs.get(run) ?? { sum: zero(), packages: new Map() };
  const p = r.packages.get(pkg) ?? zero();
  add(p, counts);
  add(r.sum, counts);
  add(total, counts);
  r.packages.set(pkg, p);
  runs.set(run, r);
}
// Newest Node first (the full suite on 24 before the Node 22 pass), an unlabelled run before its
// labelled passes.
const order = [...runs.keys()].sort((a, b) => {
  const [na, la = ""] = a.split("+");
  const [nb, lb = ""] = b.split("+");
  return nb.localeCompare(na, "en", { numeric: true }) || la.localeCompare(lb, "en", { numeric: true });
});
for (const run of order) {
  const r = runs.get(run);
  for (const [pkg, p] of [...r.packages].sort()) console.log(`  ${pkg.padEnd(22)} ${line(p)}`);
  console.log(`${run}: ${line(r.sum)}`);
}
if (runs.size > 1) console.log(`total: ${line(total)}`);
if (total.failed > 0 || total.passed === 0 || (total.skipped > 0 && process.env.CI === "true")) process.exit(1);
