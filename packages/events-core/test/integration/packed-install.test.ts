// Core as a user gets it: packed to a tarball, installed with npm into a scratch project outside
// the workspace that has no backend package. EVENT_PUBLISHER=kafka must name the package to add.
// Offline: zod (core's only required peer) is packed from the workspace's own install, so npm never
// asks a registry (a registry round trip made this one test 142 s of CI; installing from a registry
// is what tooling/release/consumer-test.sh proves, with npm and pnpm).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const pkgDir = new URL("../..", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "kaireon-core-consumer-"));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("packed @kaireon/events-core in a project without backends", () => {
  it("EVENT_PUBLISHER=kafka gives BackendNotInstalledError naming @kaireon/events-kafka; memory works, without @opentelemetry/api installed", () => {
    execFileSync("pnpm", ["pack", "--pack-destination", scratch], { cwd: pkgDir, stdio: "pipe" });
    const tarball = readdirSync(scratch).find((f) => f.endsWith(".tgz"));
    expect(tarball).toBeDefined();
    // The zod the workspace resolves for core, laid out as a registry tarball (package/…); its files
    // are hard links into the store, which npm would unpack as empty links: stored as files.
    const zodDir = dirname(createRequire(join(pkgDir, "package.json")).resolve("zod/package.json"));
    const zodVersion = (JSON.parse(readFileSync(join(zodDir, "package.json"), "utf8")) as { version: string }).version;
    expect(zodVersion).toMatch(/^4\./);
    execFileSync("tar", [
      "czf",
      join(scratch, "zod.tgz"),
      "--dereference",
      "--hard-dereference",
      "-C",
      dirname(zodDir),
      "--transform",
      "s,^zod,package,",
      "zod",
    ]);
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch-app", private: true, type: "module" }));
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", `./${tarball}`, "./zod.tgz"], {
      cwd: scratch,
      stdio: "pipe",
    });
    writeFileSync(
      join(scratch, "app.mjs"),
      `import { loadPublisher, EventsError } from "@kaireon/events-core";
const out = {};
try { await loadPublisher({ EVENT_PUBLISHER: "kafka", KAFKA_BROKERS: "127.0.0.1:9" }); out.kafka = "loaded?!"; }
catch (e) { out.kafka = { coded: EventsError.isInstance(e), code: e.code, name: e.name, message: e.message }; }
const p = await loadPublisher({ EVENT_PUBLISHER: "memory" });
out.otel = await import("@opentelemetry/api").then(() => "installed", () => "absent");
const { createMemorySubscriber } = await import("@kaireon/events-core");
const handled = [];
const sub = await createMemorySubscriber().subscribe(["decision.made.v1"], (event) => { handled.push(event.traceparent ?? "none"); });
out.memory = (await p.publish("decision.made.v1", { tenantId: "t", customerId: "c", recommendationId: "r", offersReturned: 1, topOfferId: null, topPropensity: null, decisionFlowKey: "f", timestamp: new Date().toISOString() })).status;
for (let i = 0; i < 100 && handled.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
out.handled = handled;
await sub.close();
console.log(JSON.stringify(out));`,
    );
    // A user's shell has no NODE_PATH; pnpm's script shims set one that reaches every workspace package.
    const { NODE_PATH: _hidden, ...env } = process.env;
    const out = JSON.parse(execFileSync("node", ["app.mjs"], { cwd: scratch, encoding: "utf8", env }));
    expect(out.kafka).toEqual({
      coded: true,
      code: "BACKEND_NOT_INSTALLED",
      name: "BackendNotInstalledError",
      message: "EVENT_PUBLISHER=kafka needs @kaireon/events-kafka — install it: pnpm add @kaireon/events-kafka",
    });
    expect(out.memory).toBe("published");
    // @opentelemetry/api is an optional peer: not installed here, and core publishes and delivers
    // without it (no traceparent, no telemetry).
    expect(out.otel).toBe("absent");
    expect(out.handled).toEqual(["none"]);
  }, 180_000);
});
