// Shared vitest settings; a package's vitest.config.mjs re-exports this. When KAIREON_REPORT_DIR is
// set (tooling/test.sh), each run also writes a JSON report that tooling/test-summary.mjs adds up.
import { basename } from "node:path";
import { defineConfig } from "vitest/config";

const reportDir = process.env.KAIREON_REPORT_DIR;
const name = basename(process.cwd());

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: reportDir ? ["default", ["json", { outputFile: `${reportDir}/${name}-${process.pid}-${Date.now()}.json` }]] : ["default"],
  },
});
