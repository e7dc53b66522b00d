#!/usr/bin/env bash
# Installs the workspace on a machine that has only Node ≥ 20 and npm: brings pnpm 10 (Node 20's
# bundled corepack cannot verify pnpm's signature), then the locked dependencies.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

node -e 'const [maj,min]=process.versions.node.split(".").map(Number); if (maj<20||(maj===20&&min<19)) { console.error(`Node ${process.versions.node} is too old: install Node 20.19 or newer`); process.exit(1) }'

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version 2>/dev/null)" != 10.* ]]; then
  echo "bootstrap: installing pnpm 10 with npm"
  npm install --global --no-fund --no-audit pnpm@10 >/dev/null 2>&1 || {
    # No write access to the global prefix: install under the user's home instead.
    npm install --global --prefix "$HOME/.local" --no-fund --no-audit pnpm@10 >/dev/null
    export PATH="$HOME/.local/bin:$PATH"
  }
fi
echo "bootstrap: pnpm $(pnpm --version)"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | tail -n 5
