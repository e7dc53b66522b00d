# The OpenTelemetry Collector, the real OTLP receiver of the telemetry tests, sourced by
# tooling/with-services.sh. A minimal build (tooling/otelcol: the OTLP receiver, the file exporter,
# the debug exporter) from the collector's Go modules, once per source hash into $KAIREON_CACHE_DIR
# (a few minutes cold on a loaded 2-core machine, nothing after), started on 127.0.0.1. It writes what
# it receives as OTLP/JSON lines, one file per service.name, under OTELCOL_OUTPUT_DIR.
#
# Exports:
#   OTELCOL_OTLP_HTTP_ENDPOINT  http://127.0.0.1:<port>, the OTLP/HTTP receiver (OTEL_EXPORTER_OTLP_ENDPOINT)
#   OTELCOL_OTLP_GRPC_ENDPOINT  http://127.0.0.1:<port>, the OTLP/gRPC receiver
#   OTELCOL_OUTPUT_DIR          where it writes <service.name>.jsonl
# An OTELCOL_OTLP_HTTP_ENDPOINT that is already set (with OTELCOL_OUTPUT_DIR, where that collector's
# file exporter writes) means "use that collector" (e.g. compose's `otelcol` service).
OTELCOL_VERSION="${OTELCOL_VERSION:-0.161.0}"

_otelcol_binary() {
  local src="$ROOT/tooling/otelcol" hash
  hash="$(cd "$src" && sha256sum go.mod go.sum main.go | sha256sum | cut -c1-16)"
  local dir="$KAIREON_CACHE_DIR/otelcol-$OTELCOL_VERSION-$hash"
  if [[ -x "$dir/otelcol" ]]; then echo "$dir/otelcol"; return 0; fi
  if ! command -v go >/dev/null 2>&1; then
    log "otelcol: no Go toolchain to build it — install Go ≥ 1.26 (what tooling/otelcol/go.mod says) (Debian: apt-get install golang, or go.dev's release), or set OTELCOL_OTLP_HTTP_ENDPOINT and OTELCOL_OUTPUT_DIR to a running collector's"
    return 1
  fi
  log "otelcol: building tooling/otelcol (collector v$OTELCOL_VERSION modules) with $(go version | cut -d' ' -f3) into $dir"
  mkdir -p "$dir"
  local started=$SECONDS
  (cd "$src" && go build -trimpath -o "$dir/otelcol.partial" .) >"$dir/build.log" 2>&1 || {
    tail -n 20 "$dir/build.log" >&2
    log "otelcol: go build failed (see above, $dir/build.log) — check the Go module proxy is reachable, or fix tooling/otelcol (keep every collector module at one release)"
    return 1
  }
  mv "$dir/otelcol.partial" "$dir/otelcol"
  log "otelcol: built in $((SECONDS - started)) s"
  echo "$dir/otelcol"
}

start_otelcol() {
  command -v curl >/dev/null 2>&1 || apt_install curl
  if [[ -n "${OTELCOL_OTLP_HTTP_ENDPOINT:-}" ]]; then
    [[ -n "${OTELCOL_OUTPUT_DIR:-}" ]] || {
      log "otelcol: OTELCOL_OTLP_HTTP_ENDPOINT is set but OTELCOL_OUTPUT_DIR is not — set it to the folder that collector's file exporter writes"
      return 1
    }
    log "otelcol: using OTELCOL_OTLP_HTTP_ENDPOINT=$OTELCOL_OTLP_HTTP_ENDPOINT (output in $OTELCOL_OUTPUT_DIR)"
    return 0
  fi
  local bin http grpc out="$KAIREON_RUN_DIR/otelcol"
  bin="$(_otelcol_binary)" || return 1
  http="$(free_port)"
  grpc="$(free_port)"
  mkdir -p "$out"
  OTELCOL_HOST=127.0.0.1 OTELCOL_HTTP_PORT="$http" OTELCOL_GRPC_PORT="$grpc" OTELCOL_OUTPUT_DIR="$out" \
    "$bin" --config="file:$ROOT/tooling/otelcol/config.yaml" >"$KAIREON_RUN_DIR/otelcol.log" 2>&1 &
  local pid=$!
  register_cleanup "stop_pid $pid"
  export OTELCOL_OTLP_HTTP_ENDPOINT="http://127.0.0.1:$http" OTELCOL_OTLP_GRPC_ENDPOINT="http://127.0.0.1:$grpc" OTELCOL_OUTPUT_DIR="$out"
  # Ready when the HTTP receiver accepts an (empty) export.
  WAIT_UNTIL_PID=$pid wait_until "otelcol on 127.0.0.1:$http" 60 \
    curl -fsS -X POST -H 'content-type: application/json' -d '{}' "$OTELCOL_OTLP_HTTP_ENDPOINT/v1/traces" || {
    tail -n 20 "$KAIREON_RUN_DIR/otelcol.log" >&2 || true
    return 1
  }
  log "otelcol: ready at $OTELCOL_OTLP_HTTP_ENDPOINT (gRPC $OTELCOL_OTLP_GRPC_ENDPOINT, pid $pid, output $out)"
}
