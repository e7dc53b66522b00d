#!/usr/bin/env bash
# Starts the real services the integration tests need on 127.0.0.1, runs a command with their
# addresses exported, and stops them again (by PID) however the command ends.
#
#   bash tooling/with-services.sh <command...>
#
# Each file tooling/services/<name>.sh defines `start_<name>`: it installs the service if missing,
# starts it on a free port, waits until it answers, exports its address variable and registers its
# cleanup. A variable that is already set (REDIS_URL, KAFKA_BROKERS, AWS_ENDPOINT_URL, DATABASE_URL)
# means "use that running service" and nothing is started. KAIREON_SERVICES=redis,kafka limits which
# services start. A service that fails to start fails the run: tests never skip for want of one.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# A run folder this script made is removed on exit; one given in KAIREON_RUN_DIR belongs to the caller
# (another with-services.sh, perhaps still running its services from it) and is left alone.
if [[ -z "${KAIREON_RUN_DIR:-}" ]]; then
  KAIREON_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/kaireon-services.XXXXXX")"
  _own_run_dir=1
fi
export KAIREON_RUN_DIR
export KAIREON_CACHE_DIR="${KAIREON_CACHE_DIR:-$HOME/.cache/kaireon-events}"
mkdir -p "$KAIREON_CACHE_DIR"

_cleanups=()
register_cleanup() { _cleanups+=("$1"); }
_run_cleanups() {
  local status=$?
  for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" >/dev/null 2>&1 || true; done
  [[ -n "${_own_run_dir:-}" ]] && rm -rf "$KAIREON_RUN_DIR"
  exit "$status"
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

log() { echo "[services] $*" >&2; }

# free_port, wait_until, stop_pid: for the service scripts.
# shellcheck source=tooling/helpers.sh
source "$ROOT/tooling/helpers.sh"

# apt_install <package...>: installs Debian packages when missing (root, or sudo).
apt_install() {
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  if [[ ! -f "$KAIREON_CACHE_DIR/apt-updated" ]] || [[ -n "$(find "$KAIREON_CACHE_DIR/apt-updated" -mmin +1440 2>/dev/null)" ]]; then
    $sudo apt-get update -qq >/dev/null && touch "$KAIREON_CACHE_DIR/apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

wanted="${KAIREON_SERVICES:-all}"
for file in "$ROOT"/tooling/services/*.sh; do
  [[ -e "$file" ]] || continue
  name="$(basename "$file" .sh)"
  if [[ "$wanted" != "all" && ",$wanted," != *",$name,"* ]]; then continue; fi
  # shellcheck source=/dev/null
  source "$file"
  "start_${name}"
done

"$@"
