#!/usr/bin/env bash
# The test command of the README: installs what is missing, builds, runs the unit tests, then the
# integration tests against real services started on 127.0.0.1 (tooling/with-services.sh), and
# prints the summary (tooling/test-summary.mjs), which names the Node version the tests ran on.
# A KAIREON_REPORT_DIR already set (.ci/run) collects these reports beside other runs'.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
# Sourced, not run: the Node it picks must stay on PATH for pnpm, turbo and vitest below.
# shellcheck source=tooling/node.sh
source tooling/node.sh
bash tooling/bootstrap.sh
[[ -d "$HOME/.local/bin" ]] && export PATH="$HOME/.local/bin:$PATH"
export KAIREON_REPORT_DIR="${KAIREON_REPORT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/kaireon-reports.XXXXXX")}"
pnpm turbo run build --output-logs=errors-only
pnpm turbo run test --output-logs=full
bash tooling/with-services.sh pnpm turbo run test:integration --concurrency=1 --output-logs=full
node tooling/test-summary.mjs
