#!/usr/bin/env bash
# The broker's control script (KAFKA_TEST_CONTROL): the fault test crashes the broker and starts it
# again on the same ports and data dir.
#
#   control.sh start|stop|terminate|status
#
# stop: SIGKILL (a crash). start: start it again and wait until every listener accepts connections.
# terminate: SIGTERM, SIGKILL after 30 s (with-services.sh's cleanup). status: exit 0 while it runs.
#
# tooling/services/kafka.sh links it into the broker's run folder as control.sh; it reads that
# folder's control.env (KAFKA_JAVA_OPTS, KAFKA_LIB) and server.properties (the listeners), so one
# checked-in file serves every broker and a listener added to server.properties is waited for. (It
# lives in tooling/services/kafka/, not tooling/services/, whose *.sh with-services.sh sources.)
set -u
dir="$(cd "$(dirname "$0")" && pwd)"
[[ -f "$dir/control.env" ]] || {
  echo "kafka control: no control.env in $dir (run it as the control.sh that tooling/services/kafka.sh links into the broker's folder)" >&2
  exit 2
}
# shellcheck source=/dev/null
source "$dir/control.env"
# shellcheck source=tooling/helpers.sh
source "$(dirname "$(readlink -f "$0")")/../../helpers.sh"
pidfile="$dir/kafka.pid"
log="$dir/kafka.log"

alive() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# The ports of `listeners=` in server.properties, one a line.
listener_ports() { sed -n 's/^listeners=//p' "$dir/server.properties" | tr ',' '\n' | sed -n 's/.*:\([0-9]*\)$/\1/p'; }

listening() {
  local port
  for port in $(listener_ports); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || return 1
  done
}

started_lines() {
  local n
  n=$(grep -c "Kafka Server started" "$log" 2>/dev/null)
  echo "${n:-0}"
}

# Started since `before` was counted, and every listener answers.
ready() { (($(started_lines) > before)) && listening; }

case "${1:-}" in
  start)
    alive && exit 0
    # The log keeps earlier runs: wait for one more "started" line than before.
    before=$(started_lines)
    # shellcheck disable=SC2086
    setsid java $KAFKA_JAVA_OPTS -cp "$KAFKA_LIB/*" kafka.Kafka "$dir/server.properties" >>"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$pidfile"
    WAIT_UNTIL_PID=$pid wait_until "kafka (see $log)" 120 ready || {
      tail -n 30 "$log" >&2
      exit 1
    }
    exit 0
    ;;
  stop)
    alive || exit 0
    pid=$(cat "$pidfile")
    kill -9 "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    exit 1
    ;;
  terminate)
    alive || exit 0
    stop_pid "$(cat "$pidfile")" 30
    exit 0
    ;;
  status) alive ;;
  *)
    echo "usage: $0 start|stop|terminate|status" >&2
    exit 2
    ;;
esac
