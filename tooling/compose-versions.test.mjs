// docker-compose.yml runs the service versions tooling/services runs, so a user with Docker tests
// against what CI tests: moto, Kafka and the OpenTelemetry Collector at the scripts' pins (MOTO_VERSION,
// KAFKA_VERSION, OTELCOL_VERSION — and tooling/otelcol's Go modules at that release), Redis and
// PostgreSQL at the line of Debian's package the scripts run (the installed server, else the one apt
// would install). Also: the file is valid YAML (no duplicate key), every service has an image or a
// build, and every published port binds 127.0.0.1 only. `docker-compose config` (.ci/run) checks the
// compose schema; this checks what it cannot know.
//   node --test tooling/compose-versions.test.mjs
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const root = fileURLToPath(new URL("..", import.meta.url));
const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { uniqueKeys: true, prettyErrors: true });
const services = compose.services ?? {};
const script = (name) => readFileSync(join(root, "tooling/services", `${name}.sh`), "utf8");
const tag = (service) => {
  const image = services[service]?.image;
  assert.ok(image, `docker-compose.yml: service "${service}" has no image`);
  return image.slice(image.lastIndexOf(":") + 1);
};
const run = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return "";
  }
};
// The version apt would install: "Candidate: 5:7.0.15-1~deb12u6" -> "7.0.15-1~deb12u6" (no epoch).
const aptCandidate = (pkg) => /Candidate:\s*(?:\d+:)?(\S+)/.exec(run("apt-cache", ["policy", pkg]))?.[1];

test("docker-compose.yml: every service has an image or a build and publishes ports on 127.0.0.1 only", () => {
  assert.ok(Object.keys(services).length > 0, "docker-compose.yml has no services");
  for (const [name, service] of Object.entries(services)) {
    assert.ok(service.image || service.build, `service "${name}" has neither image nor build`);
    for (const port of service.ports ?? []) {
      assert.match(String(port), /^127\.0\.0\.1:/, `service "${name}" publishes ${port} beyond 127.0.0.1`);
    }
  }
});

test("moto: the image is tooling/services/moto.sh's MOTO_VERSION", () => {
  const pinned = /^MOTO_VERSION="([^"]+)"/m.exec(script("moto"))?.[1];
  assert.ok(pinned, "tooling/services/moto.sh: no MOTO_VERSION=");
  assert.equal(tag("aws"), pinned, `docker-compose.yml aws: motoserver/moto:${tag("aws")}, moto.sh runs ${pinned}`);
});

test("kafka: the image is tooling/services/kafka.sh's default KAFKA_VERSION", () => {
  const pinned = /^KAFKA_VERSION="\$\{KAFKA_VERSION:-([^}]+)\}"/m.exec(script("kafka"))?.[1];
  assert.ok(pinned, "tooling/services/kafka.sh: no default KAFKA_VERSION line");
  assert.equal(tag("kafka"), pinned, `docker-compose.yml kafka: apache/kafka:${tag("kafka")}, kafka.sh runs ${pinned}`);
});

test("otelcol: the image is tooling/services/otelcol.sh's OTELCOL_VERSION, the release tooling/otelcol builds", () => {
  const pinned = /^OTELCOL_VERSION="\$\{OTELCOL_VERSION:-([^}]+)\}"/m.exec(script("otelcol"))?.[1];
  assert.ok(pinned, "tooling/services/otelcol.sh: no default OTELCOL_VERSION line");
  assert.equal(tag("otelcol"), pinned, `docker-compose.yml otelcol: ${services.otelcol.image}, otelcol.sh runs ${pinned}`);
  const gomod = readFileSync(join(root, "tooling/otelcol/go.mod"), "utf8");
  for (const module of [
    "go.opentelemetry.io/collector/otelcol",
    "go.opentelemetry.io/collector/receiver/otlpreceiver",
    "github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter",
  ]) {
    const version = new RegExp(`^\\s*${module.replaceAll(".", "\\.")} v(\\S+)`, "m").exec(gomod)?.[1];
    assert.equal(version, pinned, `tooling/otelcol/go.mod: ${module} v${version}, otelcol.sh says ${pinned}`);
  }
});

test("redis: the image's line is the redis-server tooling/services/redis.sh runs", () => {
  const bin = process.env.REDIS_SERVER_BIN || "redis-server";
  const version = /v=(\d+\.\d+)/.exec(run(bin, ["--version"]))?.[1] ?? aptCandidate("redis-server")?.match(/^\d+\.\d+/)?.[0];
  assert.ok(version, "no redis-server installed and apt-cache names no candidate: apt-get update, or install redis-server");
  assert.equal(tag("redis").replace(/-alpine$/, ""), version, `docker-compose.yml redis: redis:${tag("redis")}, redis.sh runs ${version}`);
});

test("postgres: the image's major is the server tooling/services/postgres.sh runs", () => {
  // postgres.sh runs the newest /usr/lib/postgresql/<n>, else installs Debian's `postgresql`.
  const dir = "/usr/lib/postgresql";
  const installed = existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => existsSync(join(dir, n, "bin/postgres")))
        .map(Number)
        .sort((a, b) => a - b)
        .pop()
    : undefined;
  const major = installed?.toString() ?? aptCandidate("postgresql")?.match(/^\d+/)?.[0];
  assert.ok(major, "no PostgreSQL server installed and apt-cache names no candidate: apt-get update, or install postgresql");
  assert.equal(
    tag("postgres").replace(/-alpine$/, ""),
    major,
    `docker-compose.yml postgres: postgres:${tag("postgres")}, postgres.sh runs ${major}`,
  );
});
