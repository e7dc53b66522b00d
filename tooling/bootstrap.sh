#!/usr/bin/env bash
# Installs the workspace on a machine that has only Node and npm: a Node the project supports
# (tooling/node.sh: Node 24 into the project's cache when the machine's Node is older than 22.12),
# pnpm 10, then the locked dependencies, and proves the one native addon (better-sqlite3) loads on
# this Node. The Node it picks stays on PATH only inside this script: demo.sh, test.sh and .ci/run
# source tooling/node.sh first, so the commands that follow them run on the same Node.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=tooling/node.sh
source tooling/node.sh

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version 2>/dev/null)" != 10.* ]]; then
  echo "bootstrap: installing pnpm 10 with npm"
  npm install --global --no-fund --no-audit pnpm@10 >/dev/null 2>&1 || {
    # No write access to the global prefix: install under the user's home instead.
    npm install --global --prefix "$HOME/.local" --no-fund --no-audit pnpm@10 >/dev/null
    export PATH="$HOME/.local/bin:$PATH"
  }
fi
echo "bootstrap: pnpm $(pnpm --version), Node $(node --version)"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | tail -n 5

# better-sqlite3 (the outbox's and the demo's SQLite) is compiled for one Node ABI. node_modules made
# by another Node major (this clone switched Node, or CI's second pass) still holds the old build,
# which pnpm install leaves alone: rebuild it for this Node, then prove it opens a database.
sqlite_users=()
for dir in packages/events-outbox apps/demo; do [[ -d "$dir/node_modules/better-sqlite3" ]] && sqlite_users+=("$dir"); done
sqlite_works() {
  local dir
  for dir in "${sqlite_users[@]}"; do
    (cd "$dir" && node -e 'new (require("better-sqlite3"))(":memory:").close()') >/dev/null 2>&1 || return 1
  done
}
if ((${#sqlite_users[@]} > 0)) && ! sqlite_works; then
  echo "bootstrap: rebuilding better-sqlite3 for Node $(node --version)"
  # One copy in pnpm's virtual store serves every package that has it: rebuild it once.
  (cd "${sqlite_users[0]}" && pnpm rebuild better-sqlite3 2>&1 | tail -n 3)
  sqlite_works || {
    for dir in "${sqlite_users[@]}"; do (cd "$dir" && node -e 'new (require("better-sqlite3"))(":memory:")') || true; done
    echo "bootstrap: better-sqlite3 does not load on Node $(node --version)" >&2
    exit 1
  }
fi
