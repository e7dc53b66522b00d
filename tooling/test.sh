#!/usr/bin/env bash
# The test command of the README: installs what is missing, builds, runs the unit tests, then the
# integration tests against real services started on 127.0.0.1 (tooling/with-services.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
bash tooling/bootstrap.sh
export KAIREON_REPORT_DIR="$(mktemp -d "${TMPDIR:-/tmp}/kaireon-reports.XXXXXX")"
pnpm turbo run build --output-logs=errors-only
pnpm turbo run test --output-logs=full
bash tooling/with-services.sh pnpm turbo run test:integration --concurrency=1 --output-logs=full
node tooling/test-summary.mjs
