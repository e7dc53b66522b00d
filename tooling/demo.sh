#!/usr/bin/env bash
# The README's first command: on a fresh clone, installs what is missing (a supported Node, pnpm, the
# locked dependencies), builds the demo and what it depends on, and starts it on the embedded default
# (SQLite + in-memory backend + live view). Environment variables pass through: EVENT_PUBLISHER,
# REDIS_URL, KAFKA_BROKERS, DATABASE_URL, PORT… (see apps/demo/README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
# Sourced, not run: the Node it picks (Node 24 from the cache on an older machine) must stay on PATH
# for pnpm, turbo and the demo below.
# shellcheck source=tooling/node.sh
source tooling/node.sh
bash tooling/bootstrap.sh
[[ -d "$HOME/.local/bin" ]] && export PATH="$HOME/.local/bin:$PATH"
pnpm turbo run build --filter=@kaireon/demo... --output-logs=errors-only
exec node apps/demo/dist/main.js "$@"
