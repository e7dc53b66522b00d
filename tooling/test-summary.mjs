// Adds up the vitest JSON reports of one tooling/test.sh run and prints one closing line:
// "N passed, N failed, N skipped". Exits non-zero when a test failed, was skipped, or none ran.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.KAIREON_REPORT_DIR;
if (!dir) throw new Error("KAIREON_REPORT_DIR is not set");
let passed = 0;
let failed = 0;
let skipped = 0;
const perPackage = new Map();
for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
  const report = JSON.parse(readFileSync(join(dir, file), "utf8"));
  const pkg = file.replace(/-\d+-\d+\.json$/, "");
  passed += report.numPassedTests;
  failed += report.numFailedTests + (report.numFailedTestSuites ?? 0);
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  const p = perPackage.get(pkg) ?? { passed: 0, failed: 0, skipped: 0 };
  p.passed += report.numPassedTests;
  p.failed += report.numFailedTests;
  p.skipped += report.numPendingTests;
  perPackage.set(pkg, p);
}
for (const [pkg, p] of [...perPackage].sort())
  console.log(`  ${pkg.padEnd(22)} ${p.passed} passed, ${p.failed} failed, ${p.skipped} skipped`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || passed === 0 || (skipped > 0 && process.env.CI === "true")) process.exit(1);
