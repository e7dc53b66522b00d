#!/usr/bin/env bash
# CI's short ledger run: every backend, both stores, under cycling wire faults (tooling/chaos/README.md).
# Runs inside tooling/with-services.sh, which exports the services, TOXIPROXY_URL and Kafka's PROXIED
# listener (KAFKA_TEST_PROXIED_BROKERS):
#   KAIREON_SERVICES=redis,kafka,moto,postgres,toxiproxy bash tooling/with-services.sh bash tooling/chaos/ci.sh
# Fails when a durable backend misses an event or a request failed (reordering too with CHAOS_ORDER_FAILS=1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# The independent consumers' tools: sqlite3 (the store), and a JDK to run the Kafka reader as a single
# source file (kafka.sh installs only a JRE). redis-cli, psql and boto3 come with their services.
need=()
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
java --list-modules 2>/dev/null | grep -q '^jdk.compiler@' || need+=(openjdk-17-jdk-headless)
if ((${#need[@]} > 0)); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "[chaos] installing ${need[*]}" >&2
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

node --test tooling/chaos/ledger.test.mjs >/dev/null
# 32 s covers every scenario once (7 × (3 s fault + 1.5 s healed)); six runs take about 5 minutes here.
CHAOS_SECONDS="${CHAOS_SECONDS:-32}" node tooling/chaos/chaos.mjs
