#!/usr/bin/env bash
# Kafka's kafka-configs tool for the running broker's version (KAFKA_TEST_CONFIGS), arguments as
# kafka-configs.sh's. tooling/services/kafka.sh links it into the broker's run folder as
# kafka-configs.sh; the classpath and main class come from that folder's control.env
# (KAFKA_CONFIGS_CP, KAFKA_CONFIGS_MAIN: in 3.x the broker jar's kafka.admin.ConfigCommand, in 4.x
# kafka-tools' org.apache.kafka.tools.ConfigCommand).
set -u
dir="$(cd "$(dirname "$0")" && pwd)"
[[ -f "$dir/control.env" ]] || {
  echo "kafka configs: no control.env in $dir (run it as the kafka-configs.sh that tooling/services/kafka.sh links into the broker's folder)" >&2
  exit 2
}
# shellcheck source=/dev/null
source "$dir/control.env"
exec java -Xmx256m -XX:+UseSerialGC -Djava.awt.headless=true -Dlog4j.configuration="file:$dir/log4j.properties" \
  -cp "$KAFKA_CONFIGS_CP" "$KAFKA_CONFIGS_MAIN" "$@"
