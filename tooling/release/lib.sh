# Shared by the release scripts (sourced): a release clone and a throwaway local npm registry.
# Nothing here talks to the public npm registry's publish API: the registry is Verdaccio on
# 127.0.0.1, and every publish runs with npm_config_registry pointing at it.
RELEASE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERDACCIO_VERSION="6.8.0" # the last release whose engines allow Node 20
KAIREON_CACHE_DIR="${KAIREON_CACHE_DIR:-$HOME/.cache/kaireon-events}"

rlog() { echo "[release] $*" >&2; }
log() { rlog "$@"; }
# shellcheck source=tooling/helpers.sh
source "$RELEASE_ROOT/tooling/helpers.sh"

# release_clone <dir>: a clean clone of the committed HEAD with the pending changesets applied
# (`pnpm version-packages`), installed and built: what `pnpm release` would publish.
release_clone() {
  local dir=$1
  if [[ -n "$(git -C "$RELEASE_ROOT" status --porcelain --untracked-files=no)" ]]; then
    rlog "note: uncommitted changes are not part of the release clone (it is made from HEAD)"
  fi
  git clone --quiet --no-hardlinks "$RELEASE_ROOT" "$dir"
  (
    cd "$dir"
    pnpm install --frozen-lockfile --prefer-offline --reporter=silent
    rlog "pnpm version-packages (changeset version) in $dir"
    pnpm --silent version-packages 2>&1 | grep -v '^Package ".*" must depend on the current version' >&2 || true
    pnpm install --prefer-offline --reporter=silent --no-frozen-lockfile
  )
}

# start_verdaccio <workdir>: Verdaccio on a free 127.0.0.1 port with storage, users and config in
# <workdir>; @kaireon/* only from local storage (never proxied), everything else proxied to the
# public registry so ordinary dependencies install. Sets REGISTRY_URL, VERDACCIO_PID and
# REGISTRY_NPMRC (a userconfig holding a throwaway user's token). Stop it with stop_verdaccio.
start_verdaccio() {
  local work=$1
  local prefix="$KAIREON_CACHE_DIR/verdaccio-$VERDACCIO_VERSION"
  if [[ ! -f "$prefix/node_modules/verdaccio/bin/verdaccio" ]]; then
    rlog "installing verdaccio@$VERDACCIO_VERSION into $prefix"
    mkdir -p "$prefix"
    # verdaccio-audit asks for node-fetch@cjs, a dist-tag the registry no longer has: pin 2.7.0.
    printf '{ "private": true, "dependencies": { "verdaccio": "%s" }, "overrides": { "node-fetch": "2.7.0" } }\n' \
      "$VERDACCIO_VERSION" >"$prefix/package.json"
    (cd "$prefix" && npm install --no-fund --no-audit --omit=dev --loglevel=error >/dev/null)
  fi
  local port
  port="$(free_port)"
  mkdir -p "$work/storage"
  cat >"$work/verdaccio.yaml" <<YAML
storage: $work/storage
auth:
  htpasswd:
    file: $work/htpasswd
    max_users: 1
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
packages:
  '@kaireon/*':
    access: \$all
    publish: \$authenticated
  '**':
    access: \$all
    proxy: npmjs
middlewares:
  audit:
    enabled: false
web:
  enable: false
log: { type: file, path: $work/verdaccio.log, level: warn }
YAML
  node "$prefix/node_modules/verdaccio/bin/verdaccio" --config "$work/verdaccio.yaml" --listen "127.0.0.1:$port" \
    >"$work/verdaccio.out" 2>&1 &
  VERDACCIO_PID=$!
  REGISTRY_URL="http://127.0.0.1:$port/"
  WAIT_UNTIL_PID=$VERDACCIO_PID wait_until "verdaccio on $REGISTRY_URL" 60 curl -sf "${REGISTRY_URL}-/ping" || {
    tail -n 20 "$work/verdaccio.out" "$work/verdaccio.log" >&2 2>/dev/null || true
    return 1
  }
  local password token
  password="$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')"
  token="$(curl -sf -X PUT -H 'content-type: application/json' -d "{\"name\":\"kaireon-ci\",\"password\":\"$password\"}" \
    "${REGISTRY_URL}-/user/org.couchdb.user:kaireon-ci" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')"
  [[ -n "$token" && "$token" != "undefined" ]] || {
    rlog "could not create a user on $REGISTRY_URL"
    return 1
  }
  REGISTRY_NPMRC="$work/publish.npmrc"
  printf 'registry=%s\n//127.0.0.1:%s/:_authToken=%s\n' "$REGISTRY_URL" "$port" "$token" >"$REGISTRY_NPMRC"
  rlog "verdaccio@$VERDACCIO_VERSION ready at $REGISTRY_URL (pid $VERDACCIO_PID)"
}

# stop_verdaccio: TERM by PID, KILL after 10 s.
stop_verdaccio() {
  [[ -n "${VERDACCIO_PID:-}" ]] || return 0
  stop_pid "$VERDACCIO_PID"
}
