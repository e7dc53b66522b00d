# shellcheck shell=bash
# Sourced, never run: the process helpers every tooling script shares (tooling/with-services.sh and the
# service scripts it sources, tooling/release/lib.sh, tooling/services/kafka/control.sh). A caller may
# define `log` first; otherwise messages go to stderr as they are.
#   source "$ROOT/tooling/helpers.sh"

declare -F log >/dev/null || log() { echo "$*" >&2; }

# free_port: prints a TCP port nothing listens on right now (on 127.0.0.1), never one given before in
# this run (KAIREON_RUN_DIR), and from below the kernel's ephemeral range where it leaves room
# (tooling/free-port.mjs).
_helpers_dir="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
free_port() { node "$_helpers_dir/free-port.mjs" 1; }

# wait_until <description> <seconds> <command...>: retries the command every 0.2 s until it succeeds;
# after <seconds> it says what did not become ready and returns 1. WAIT_UNTIL_PID=<pid> also gives up
# at once when that process has exited (a server that died while starting).
wait_until() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [[ -n "${WAIT_UNTIL_PID:-}" ]] && ! kill -0 "$WAIT_UNTIL_PID" 2>/dev/null; then
      log "$what: the process (pid $WAIT_UNTIL_PID) exited before it was ready"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "$what did not become ready within ${seconds}s"
      return 1
    fi
    sleep 0.2
  done
}

# stop_pid <pid> [seconds]: TERM, then KILL when it is still there after <seconds> (default 10).
stop_pid() {
  local pid=$1 seconds=${2:-10}
  kill "$pid" 2>/dev/null || return 0
  local deadline=$((SECONDS + seconds))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || {
      kill -9 "$pid" 2>/dev/null || true
      return 0
    }
    sleep 0.2
  done
}
