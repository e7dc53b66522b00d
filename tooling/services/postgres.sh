# PostgreSQL for the outbox's integration tests (sourced by tooling/with-services.sh): a throwaway
# cluster under $KAIREON_RUN_DIR on 127.0.0.1, trust auth, fsync off. Uses the newest server already
# installed (/usr/lib/postgresql/<n>), else installs Debian's `postgresql`. PostgreSQL refuses to run
# as root, so as root it runs as the `postgres` system user (created when missing). Exports DATABASE_URL.

start_postgres() {
  if [[ -n "${DATABASE_URL:-}" ]]; then
    log "postgres: using DATABASE_URL (already set)"
    return 0
  fi
  local bindir
  bindir="$(_postgres_bindir || true)"
  if [[ -z "$bindir" ]]; then
    log "postgres: installing the Debian server package"
    apt_install postgresql >&2
    # The package may have created and started a "main" cluster on 5432; stop what it started (we
    # use our own throwaway cluster below), so nothing is left running after the tests.
    if command -v pg_lsclusters >/dev/null 2>&1; then
      pg_lsclusters --no-header 2>/dev/null | while read -r ver name _port status _rest; do
        [[ "$status" == online* ]] && pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
      done
    fi
    bindir="$(_postgres_bindir || true)"
    [[ -n "$bindir" ]] || { log "postgres: no server found after installing postgresql"; return 1; }
  fi

  local dir="$KAIREON_RUN_DIR/postgres" port as=()
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin postgres
    fi
    # The server user must reach its data directory: let it traverse (not list) the run directory.
    chmod o+x "$KAIREON_RUN_DIR"
    chown postgres: "$dir"
    as=(setpriv --reuid=postgres --regid="$(id -g postgres)" --init-groups --)
  fi
  chmod 700 "$dir"

  "${as[@]}" "$bindir/initdb" -D "$dir/data" -U kaireon --auth=trust -E UTF8 --locale=C --no-sync >"$KAIREON_RUN_DIR/postgres-initdb.log" 2>&1 || {
    tail -n 20 "$KAIREON_RUN_DIR/postgres-initdb.log" >&2
    return 1
  }
  port="$(free_port)"
  # exec'd directly (setpriv does not fork), so $! is the postmaster's PID.
  "${as[@]}" "$bindir/postgres" -D "$dir/data" -h 127.0.0.1 -p "$port" -k "$dir" \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
    >"$KAIREON_RUN_DIR/postgres.log" 2>&1 &
  local pid=$!
  # SIGINT is PostgreSQL's fast shutdown (disconnects clients); stop_pid follows up if it lingers.
  register_cleanup "kill -INT $pid; stop_pid $pid"
  wait_until "postgres on 127.0.0.1:$port" 60 "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U kaireon -d postgres || {
    tail -n 20 "$KAIREON_RUN_DIR/postgres.log" >&2
    return 1
  }
  "$bindir/psql" -q -h 127.0.0.1 -p "$port" -U kaireon -d postgres -c "CREATE DATABASE kaireon" >/dev/null
  export DATABASE_URL="postgres://kaireon@127.0.0.1:$port/kaireon"
  log "postgres: ready at $DATABASE_URL (pid $pid)"
}

_postgres_bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$d" && -x "$d/postgres" ]] && echo "$d"
}
