# Toxiproxy (Shopify's TCP fault-injection proxy) for the fault tests, sourced by
# tooling/with-services.sh after the other services. Built once from its Go module into
# $KAIREON_CACHE_DIR (about a minute), started on 127.0.0.1, driven by the tests over its HTTP API
# (events-testkit's `toxiproxy` client). Tests create their own proxies in front of REDIS_URL,
# DATABASE_URL and AWS_ENDPOINT_URL; Kafka's is made here, because the broker advertises the proxy's
# address on a listener of its own (tooling/services/kafka.sh) and that port is fixed at broker start.
#
# Exports:
#   TOXIPROXY_URL               the HTTP API, http://127.0.0.1:<port>
#   KAFKA_TEST_PROXIED_BROKERS  (from kafka.sh) now forwarded through the proxy named `kafka`
#   KAFKA_TEST_PROXIED_SASL_BROKERS  (from kafka.sh) the same through `kafka-sasl`
# A TOXIPROXY_URL that is already set means "use that server" (e.g. testcontainers' or compose's).
TOXIPROXY_VERSION="${TOXIPROXY_VERSION:-2.12.0}"

_toxiproxy_binary() {
  local dir="$KAIREON_CACHE_DIR/toxiproxy-$TOXIPROXY_VERSION"
  if [[ -x "$dir/server" ]]; then echo "$dir/server"; return 0; fi
  if ! command -v go >/dev/null 2>&1; then
    log "toxiproxy: no Go toolchain to build it — install Go ≥ 1.23 (Debian: apt-get install golang, or go.dev's release) or set TOXIPROXY_URL to a running toxiproxy"
    return 1
  fi
  log "toxiproxy: building github.com/Shopify/toxiproxy/v2/cmd/server@v$TOXIPROXY_VERSION with $(go version | cut -d' ' -f3) into $dir"
  mkdir -p "$dir"
  GOBIN="$dir" GOFLAGS=-mod=mod go install "github.com/Shopify/toxiproxy/v2/cmd/server@v$TOXIPROXY_VERSION" >"$dir/build.log" 2>&1 || {
    tail -n 20 "$dir/build.log" >&2
    log "toxiproxy: go install failed (see above) — check the Go module proxy is reachable, or set TOXIPROXY_URL"
    return 1
  }
  echo "$dir/server"
}

# _toxiproxy_create <name> <listen> <upstream>
_toxiproxy_create() {
  curl -fsS -X POST "$TOXIPROXY_URL/proxies" -H 'content-type: application/json' \
    -d "{\"name\":\"$1\",\"listen\":\"$2\",\"upstream\":\"$3\",\"enabled\":true}" >/dev/null
}

start_toxiproxy() {
  command -v curl >/dev/null 2>&1 || apt_install curl
  if [[ -z "${TOXIPROXY_URL:-}" ]]; then
    local bin port
    bin="$(_toxiproxy_binary)" || return 1
    port="$(free_port)"
    "$bin" -host 127.0.0.1 -port "$port" >"$KAIREON_RUN_DIR/toxiproxy.log" 2>&1 &
    local pid=$!
    register_cleanup "stop_pid $pid"
    export TOXIPROXY_URL="http://127.0.0.1:$port"
    wait_until "toxiproxy on 127.0.0.1:$port" 30 curl -fsS "$TOXIPROXY_URL/version" || {
      tail -n 20 "$KAIREON_RUN_DIR/toxiproxy.log" >&2 || true
      return 1
    }
    log "toxiproxy: ready at $TOXIPROXY_URL (pid $pid, $("$bin" -version 2>/dev/null | head -n1))"
  else
    log "toxiproxy: using TOXIPROXY_URL=$TOXIPROXY_URL"
  fi
  if [[ -n "${KAFKA_TEST_PROXIED_UPSTREAM:-}" && -n "${KAFKA_TEST_PROXIED_BROKERS:-}" ]]; then
    _toxiproxy_create kafka "$KAFKA_TEST_PROXIED_BROKERS" "$KAFKA_TEST_PROXIED_UPSTREAM" || {
      log "toxiproxy: could not create the kafka proxy $KAFKA_TEST_PROXIED_BROKERS → $KAFKA_TEST_PROXIED_UPSTREAM"
      return 1
    }
    log "toxiproxy: kafka proxy $KAFKA_TEST_PROXIED_BROKERS → $KAFKA_TEST_PROXIED_UPSTREAM"
  fi
  if [[ -n "${KAFKA_TEST_PROXIED_SASL_UPSTREAM:-}" && -n "${KAFKA_TEST_PROXIED_SASL_BROKERS:-}" ]]; then
    _toxiproxy_create kafka-sasl "$KAFKA_TEST_PROXIED_SASL_BROKERS" "$KAFKA_TEST_PROXIED_SASL_UPSTREAM" || {
      log "toxiproxy: could not create the kafka-sasl proxy $KAFKA_TEST_PROXIED_SASL_BROKERS → $KAFKA_TEST_PROXIED_SASL_UPSTREAM"
      return 1
    }
    log "toxiproxy: kafka-sasl proxy $KAFKA_TEST_PROXIED_SASL_BROKERS → $KAFKA_TEST_PROXIED_SASL_UPSTREAM"
  fi
}
