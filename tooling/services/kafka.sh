# A real single-node Apache Kafka in KRaft mode (combined broker + controller) for the integration
# tests, with no Docker: the broker jars come from Maven Central through a throwaway pom (cached in
# $KAIREON_CACHE_DIR), storage is formatted with kafka.tools.StorageTool --standalone, and kafka.Kafka
# runs on Java 17 on 127.0.0.1 free ports. Sourced by tooling/with-services.sh. (Apache's binary
# distribution, the kafka_2.13-<v>.tgz, is on none of the registries the project reaches — Maven
# Central serves the jars but not the tgz — so the broker runs from the jars.)
#
# Exports:
#   KAFKA_BROKERS                  PLAINTEXT listener, host:port
#   KAFKA_TEST_SASL_BROKERS        SASL_PLAINTEXT listener (mechanisms PLAIN and SCRAM-SHA-512)
#   KAFKA_TEST_PLAIN_USERNAME/_PASSWORD   a PLAIN user (JAAS config of the listener)
#   KAFKA_TEST_SCRAM_USERNAME/_PASSWORD   a SCRAM-SHA-512 user (created at format time with --add-scram)
#   KAFKA_TEST_TLS_BROKERS         SSL listener (server certificate for 127.0.0.1 / localhost)
#   KAFKA_TEST_TLS_CA_FILE         PEM of the CA that signed it (kafkajs `ssl: { ca }`)
#   KAFKA_TEST_SASL_TLS_BROKERS    SASL_SSL listener: the SASL users and mechanisms above over the TLS
#                                  listener's certificate (what MSK's SCRAM port 9096 is)
#   KAFKA_TEST_PROXIED_UPSTREAM    a fifth PLAINTEXT listener, for the fault proxy only: it advertises
#   KAFKA_TEST_PROXIED_BROKERS     KAFKA_TEST_PROXIED_BROKERS (a port reserved for toxiproxy, which
#                                  tooling/services/toxiproxy.sh forwards to the upstream), so clients
#                                  that learn the cluster's metadata through the proxy stay behind it
#   KAFKA_TEST_PROXIED_SASL_UPSTREAM / _BROKERS   the same for a SASL_PLAINTEXT listener (the PLAIN
#                                  and SCRAM-SHA-512 users above), behind the proxy `kafka-sasl`: the
#                                  wire-fault tests need a password on the wire to check none leaks
#   KAFKA_TEST_CONTROL             a script: `stop` kills the broker (SIGKILL, a crash), `start` starts it
#                                  again on the same ports and data dir and waits until it answers
#                                  (tooling/services/kafka/control.sh, linked into the broker's folder)
#   KAFKA_TEST_VERSION             the Kafka version running
#   KAFKA_TEST_CONFIGS             a script that is Kafka's kafka-configs tool for that version (args as
#                                  kafka-configs.sh: --bootstrap-server … --alter --entity-type users …),
#                                  e.g. to add, rotate or delete SCRAM users while the broker runs
#                                  (tooling/services/kafka/configs.sh, linked likewise)
# When KAFKA_BROKERS is already set, that broker is used and nothing is started (the KAFKA_TEST_*
# variables of the extra listeners are then the caller's business).
#
# KAFKA_VERSION picks the broker: the current Kafka 4.x release by default (what CI's whole suite runs
# on); 3.9.x (the last 3.x line, still widely run: CI runs the conformance suite on it too) or any
# other 4.x release from Maven Central works the same way (StorageTool --standalone needs 3.9+).
KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"

_kafka_fetch_jars() {
  local dir="$KAIREON_CACHE_DIR/kafka-$KAFKA_VERSION"
  if [[ -f "$dir/.complete" ]]; then echo "$dir/lib"; return 0; fi
  log "kafka: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven Central into $dir"
  mkdir -p "$dir"
  # The kafka_2.13 POM has no logging backend. 3.x logs through log4j 1 (reload4j); 4.x through log4j2.
  local logging
  if [[ "$KAFKA_VERSION" == 3.* ]]; then
    logging='<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>'
  else
    logging='<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
             <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>'
  fi
  cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kaireon.tooling</groupId><artifactId>kafka-broker</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    $logging
  </dependencies>
</project>
POM
  (cd "$dir" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime) >&2 || {
    log "kafka: mvn could not resolve the broker jars (network? Maven Central?)"
    return 1
  }
  touch "$dir/.complete"
  echo "$dir/lib"
}

# _kafka_configs_classpath <broker lib>: "<classpath> <main class>" of the kafka-configs tool. In 3.x
# it is kafka.admin.ConfigCommand inside the broker jar; 4.x moved it to the kafka-tools artifact as
# org.apache.kafka.tools.ConfigCommand, which brings Kafka Connect's jars along: resolved into a
# directory of its own (cached beside the broker's), never onto the broker's classpath.
_kafka_configs_classpath() {
  local lib=$1
  if [[ "$KAFKA_VERSION" == 3.* ]]; then
    echo "$lib/* kafka.admin.ConfigCommand"
    return 0
  fi
  local dir="$KAIREON_CACHE_DIR/kafka-$KAFKA_VERSION/tools"
  if [[ ! -f "$dir/.complete" ]]; then
    log "kafka: resolving org.apache.kafka:kafka-tools:$KAFKA_VERSION (kafka-configs) from Maven Central into $dir"
    mkdir -p "$dir"
    cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kaireon.tooling</groupId><artifactId>kafka-tools</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
    (cd "$dir" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime) >&2 || {
      log "kafka: mvn could not resolve kafka-tools $KAFKA_VERSION"
      return 1
    }
    touch "$dir/.complete"
  fi
  echo "$dir/lib/* org.apache.kafka.tools.ConfigCommand"
}

# Self-signed CA + a server certificate for 127.0.0.1/localhost it signed, in a PKCS12 keystore.
_kafka_make_tls() {
  local dir=$1 pass=$2
  local kt=(keytool -noprompt -storetype PKCS12 -storepass "$pass" -keypass "$pass")
  "${kt[@]}" -genkeypair -keystore "$dir/ca.p12" -alias ca -dname "CN=kaireon-test-ca" -keyalg RSA -keysize 2048 -validity 30 -ext bc:c >/dev/null 2>&1
  "${kt[@]}" -exportcert -rfc -keystore "$dir/ca.p12" -alias ca -file "$dir/ca.pem" >/dev/null 2>&1
  "${kt[@]}" -genkeypair -keystore "$dir/server.p12" -alias broker -dname "CN=localhost" -keyalg RSA -keysize 2048 -validity 30 >/dev/null 2>&1
  "${kt[@]}" -certreq -keystore "$dir/server.p12" -alias broker -file "$dir/server.csr" >/dev/null 2>&1
  "${kt[@]}" -gencert -keystore "$dir/ca.p12" -alias ca -infile "$dir/server.csr" -outfile "$dir/server.pem" -rfc -validity 30 \
    -ext "SAN=ip:127.0.0.1,dns:localhost" -ext "EKU=serverAuth" >/dev/null 2>&1
  "${kt[@]}" -importcert -keystore "$dir/server.p12" -alias ca -file "$dir/ca.pem" >/dev/null 2>&1
  "${kt[@]}" -importcert -keystore "$dir/server.p12" -alias broker -file "$dir/server.pem" >/dev/null 2>&1
}

start_kafka() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    log "kafka: using KAFKA_BROKERS=$KAFKA_BROKERS"
    return 0
  fi
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  local lib
  lib="$(_kafka_fetch_jars)" || return 1

  local dir="$KAIREON_RUN_DIR/kafka"
  mkdir -p "$dir/data"
  local p_plain p_sasl p_tls p_sasl_tls p_ctrl p_proxied p_proxy p_proxied_sasl p_proxy_sasl
  p_plain="$(free_port)"; p_sasl="$(free_port)"; p_tls="$(free_port)"; p_sasl_tls="$(free_port)"; p_ctrl="$(free_port)"
  p_proxied="$(free_port)"; p_proxy="$(free_port)"; p_proxied_sasl="$(free_port)"; p_proxy_sasl="$(free_port)"
  local tls_pass="kaireon-test-tls"
  _kafka_make_tls "$dir" "$tls_pass" || { log "kafka: keytool failed to make the TLS keystore"; return 1; }

  local plain_user=kaireon-plain plain_pass=plain-secret-4a1c scram_user=kaireon-scram scram_pass=scram-secret-9f2e
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$p_ctrl
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$p_plain,SASL_PLAINTEXT://127.0.0.1:$p_sasl,SSL://127.0.0.1:$p_tls,SASL_SSL://127.0.0.1:$p_sasl_tls,PROXIED://127.0.0.1:$p_proxied,PROXIED_SASL://127.0.0.1:$p_proxied_sasl,CONTROLLER://127.0.0.1:$p_ctrl
advertised.listeners=PLAINTEXT://127.0.0.1:$p_plain,SASL_PLAINTEXT://127.0.0.1:$p_sasl,SSL://127.0.0.1:$p_tls,SASL_SSL://127.0.0.1:$p_sasl_tls,PROXIED://127.0.0.1:$p_proxy,PROXIED_SASL://127.0.0.1:$p_proxy_sasl
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,PROXIED:PLAINTEXT,PROXIED_SASL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$plain_user="$plain_pass";
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# SASL_SSL: the same users (SCRAM credentials live in the cluster metadata) over the ssl.* keystore below.
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$plain_user="$plain_pass";
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.proxied_sasl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
listener.name.proxied_sasl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$plain_user="$plain_pass";
listener.name.proxied_sasl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/server.p12
ssl.keystore.password=$tls_pass
ssl.key.password=$tls_pass
ssl.client.auth=none
log.dirs=$dir/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
num.network.threads=2
num.io.threads=2
background.threads=2
log.retention.hours=24
PROPS
  # KAFKA_TEST_REAUTH_MS (a private broker only): the SASL_SSL listener caps SCRAM sessions at that many
  # ms (KIP-368), so a client must re-authenticate or be cut off — what MSK IAM's session limit does.
  if [[ -n "${KAFKA_TEST_REAUTH_MS:-}" ]]; then
    echo "listener.name.sasl_ssl.scram-sha-512.connections.max.reauth.ms=$KAFKA_TEST_REAUTH_MS" >>"$dir/server.properties"
  fi
  cat >"$dir/log4j.properties" <<'L4J'
log4j.rootLogger=WARN, stdout
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
L4J
  cat >"$dir/log4j2.properties" <<'L4J2'
rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.raft.name=kafka.server.KafkaRaftServer
logger.raft.level=INFO
logger.broker.name=kafka.server.BrokerServer
logger.broker.level=INFO
L4J2

  local java_opts="-Xms128m -Xmx512m -XX:+UseSerialGC -XX:ActiveProcessorCount=2 -Djava.awt.headless=true"
  java_opts+=" -Dlog4j.configuration=file:$dir/log4j.properties -Dlog4j2.configurationFile=$dir/log4j2.properties"
  log "kafka: formatting storage (Kafka $KAFKA_VERSION, KRaft --standalone)"
  # shellcheck disable=SC2086
  java $java_opts -cp "$lib/*" kafka.tools.StorageTool format --standalone --ignore-formatted \
    --cluster-id "$(java -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)" \
    --config "$dir/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=$scram_user,password=$scram_pass]" >"$dir/format.log" 2>&1 || {
    cat "$dir/format.log" >&2
    log "kafka: StorageTool format failed"
    return 1
  }

  # The control script (start/stop/terminate, tooling/services/kafka/control.sh) and kafka-configs
  # (tooling/services/kafka/configs.sh) are checked-in files linked into this folder: they find the
  # broker through the folder they are called from, and what they need in its control.env.
  local configs
  configs="$(_kafka_configs_classpath "$lib")" || return 1
  {
    printf 'KAFKA_JAVA_OPTS=%q\n' "$java_opts"
    printf 'KAFKA_LIB=%q\n' "$lib"
    printf 'KAFKA_CONFIGS_CP=%q\n' "${configs% *}"
    printf 'KAFKA_CONFIGS_MAIN=%q\n' "${configs##* }"
  } >"$dir/control.env"
  ln -sf "$ROOT/tooling/services/kafka/control.sh" "$dir/control.sh"
  ln -sf "$ROOT/tooling/services/kafka/configs.sh" "$dir/kafka-configs.sh"
  register_cleanup "$dir/control.sh terminate"
  log "kafka: starting broker (PLAINTEXT 127.0.0.1:$p_plain, SASL 127.0.0.1:$p_sasl, TLS 127.0.0.1:$p_tls, SASL_SSL 127.0.0.1:$p_sasl_tls)"
  "$dir/control.sh" start || { log "kafka: the broker did not start"; return 1; }

  export KAFKA_BROKERS="127.0.0.1:$p_plain"
  export KAFKA_TEST_SASL_BROKERS="127.0.0.1:$p_sasl"
  export KAFKA_TEST_PLAIN_USERNAME="$plain_user" KAFKA_TEST_PLAIN_PASSWORD="$plain_pass"
  export KAFKA_TEST_SCRAM_USERNAME="$scram_user" KAFKA_TEST_SCRAM_PASSWORD="$scram_pass"
  export KAFKA_TEST_TLS_BROKERS="127.0.0.1:$p_tls"
  export KAFKA_TEST_TLS_CA_FILE="$dir/ca.pem"
  export KAFKA_TEST_SASL_TLS_BROKERS="127.0.0.1:$p_sasl_tls"
  export KAFKA_TEST_PROXIED_UPSTREAM="127.0.0.1:$p_proxied" KAFKA_TEST_PROXIED_BROKERS="127.0.0.1:$p_proxy"
  export KAFKA_TEST_PROXIED_SASL_UPSTREAM="127.0.0.1:$p_proxied_sasl" KAFKA_TEST_PROXIED_SASL_BROKERS="127.0.0.1:$p_proxy_sasl"
  export KAFKA_TEST_CONTROL="$dir/control.sh"
  export KAFKA_TEST_VERSION="$KAFKA_VERSION"
  export KAFKA_TEST_CONFIGS="$dir/kafka-configs.sh"
  log "kafka: ready at $KAFKA_BROKERS (pid $(cat "$dir/kafka.pid"), Kafka $KAFKA_VERSION)"
}
