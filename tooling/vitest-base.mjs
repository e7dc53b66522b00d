// Shared vitest settings; a package's vitest.config.mjs re-exports this. When KAIREON_REPORT_DIR is
// set (tooling/test.sh, .ci/run), each run also writes a JSON report that tooling/test-summary.mjs
// adds up. The file name carries the run: package, Node version, and KAIREON_RUN_LABEL when set
// (e.g. the Kafka version of a second conformance pass), so the summary can name each.
import { basename } from "node:path";
import { defineConfig } from "vitest/config";

const reportDir = process.env.KAIREON_REPORT_DIR;
const name = basename(process.cwd());
const label = (process.env.KAIREON_RUN_LABEL ?? "").replace(/[^A-Za-z0-9.]+/g, "-");
const run = `node-${process.versions.node}${label ? `+${label}` : ""}`;

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: reportDir
      ? ["default", ["json", { outputFile: `${reportDir}/${name}~${run}~${process.pid}-${Date.now()}.json` }]]
      : ["default"],
  },
});
