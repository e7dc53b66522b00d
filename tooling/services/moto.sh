# moto in server mode: the AWS emulator for EventBridge, Kinesis, SQS and STS (sourced by
# tooling/with-services.sh). Installed from PyPI into a cached virtualenv; exports AWS_ENDPOINT_URL
# plus test credentials and a region when none are set. One server serves every AWS package.
MOTO_VERSION="5.2.5"

start_moto() {
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    log "moto: using AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
  else
    local venv="$KAIREON_CACHE_DIR/moto-$MOTO_VERSION"
    # A fresh Debian has python3 but neither its venv module (python3-venv) nor curl.
    command -v curl >/dev/null 2>&1 || apt_install curl
    if [[ ! -x "$venv/bin/moto_server" ]] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
      apt_install python3 python3-venv
    fi
    if [[ ! -x "$venv/bin/moto_server" ]]; then
      log "moto: installing moto[server]==$MOTO_VERSION into $venv"
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
    fi
    local port
    port="$(free_port)"
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$KAIREON_RUN_DIR/moto.log" 2>&1 &
    local pid=$!
    register_cleanup "stop_pid $pid"
    wait_until "moto on 127.0.0.1:$port" 60 curl -sf "http://127.0.0.1:$port/moto-api/data.json" || {
      tail -n 20 "$KAIREON_RUN_DIR/moto.log" >&2
      return 1
    }
    export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
    log "moto: ready at $AWS_ENDPOINT_URL (pid $pid)"
  fi
  # The emulator accepts any credentials; never override real ones a user has set.
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
}
