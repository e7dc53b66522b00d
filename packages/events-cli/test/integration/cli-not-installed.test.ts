// The CLI installed without the backend the environment selects: the loader's BackendNotInstalledError
// line, exit 1, no stack. The built CLI is copied into a bare project that has core and the outbox
// (symlinked, as a package manager links them) and no backend package.

import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, runCli } from "../support/cli.js";

const pkg = fileURLToPath(new URL("../..", import.meta.url));
const project = mkdtempSync(join(tmpdir(), "kaireon-cli-bare-"));
const bin = join(project, "node_modules", "@kaireon", "events-cli", "dist", "bin.js");

beforeAll(() => {
  const scope = join(project, "node_modules", "@kaireon");
  mkdirSync(join(scope, "events-cli"), { recursive: true });
  cpSync(join(pkg, "dist"), join(scope, "events-cli", "dist"), { recursive: true });
  cpSync(join(pkg, "package.json"), join(scope, "events-cli", "package.json"));
  symlinkSync(join(pkg, "..", "events-core"), join(scope, "events-core"), "dir");
  symlinkSync(join(pkg, "..", "events-outbox"), join(scope, "events-outbox"), "dir");
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe("a backend package that is not installed", () => {
  it.each(["kafka", "kinesis", "eventbridge"])("EVENT_PUBLISHER=%s: names the package to install, exit 1", async (backend) => {
    const r = await runCli(["tail"], { env: cliEnv({ EVENT_PUBLISHER: backend }), cwd: project, bin });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `BACKEND_NOT_INSTALLED: EVENT_PUBLISHER=${backend} needs @kaireon/events-${backend} — install it: pnpm add @kaireon/events-${backend}`,
    );
  });

  it("check says it as a failed check", async () => {
    const r = await runCli(["check"], { env: cliEnv({ EVENT_PUBLISHER: "kafka", KAFKA_BROKERS: "127.0.0.1:9092" }), cwd: project, bin });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "FAIL backend package: EVENT_PUBLISHER=kafka needs @kaireon/events-kafka — install it: pnpm add @kaireon/events-kafka",
    );
  });

  it("outbox --sqlite without better-sqlite3: names the driver to install", async () => {
    const r = await runCli(["outbox", "status", "--sqlite", bin], { env: cliEnv({}), cwd: project, bin });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      "DRIVER_NOT_INSTALLED: --sqlite needs better-sqlite3 — install it beside kaireon-events: pnpm add better-sqlite3@^12",
    );
  });
});
