# redis-server for the @kaireon/events-redis integration tests (sourced by tooling/with-services.sh).
# Installs the Debian package when missing, starts it on 127.0.0.1 on a free port without
# persistence, waits for PING, exports REDIS_URL, and stops it by PID on exit. A REDIS_URL that is
# already set means "use that server". REDIS_SERVER_BIN is exported either way: the fault test
# spawns (and kills) its own redis-server with it.

start_redis() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    log "redis: installing redis-server (Debian package)"
    apt_install redis-server redis-tools
    # The package's systemd unit may start a server on 6379; the tests never use it.
  fi
  # The TLS test makes a self-signed certificate.
  command -v openssl >/dev/null 2>&1 || apt_install openssl
  REDIS_SERVER_BIN="$(command -v redis-server)"
  export REDIS_SERVER_BIN
  if [[ -n "${REDIS_URL:-}" ]]; then
    log "redis: using the REDIS_URL already set"
    return 0
  fi
  local port
  port="$(free_port)"
  "$REDIS_SERVER_BIN" --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize no \
    --dir "$KAIREON_RUN_DIR" --logfile "$KAIREON_RUN_DIR/redis.log" &
  local pid=$!
  register_cleanup "stop_pid $pid"
  wait_until "redis on 127.0.0.1:$port" 30 redis-cli -h 127.0.0.1 -p "$port" ping || {
    tail -n 20 "$KAIREON_RUN_DIR/redis.log" >&2 || true
    return 1
  }
  export REDIS_URL="redis://127.0.0.1:$port"
  log "redis: ready at $REDIS_URL (pid $pid)"
}
