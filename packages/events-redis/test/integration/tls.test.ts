// rediss:// against a real TLS redis-server started by this test (self-signed certificate made with
// openssl, password required). Trusting a private CA is Node's job (NODE_EXTRA_CA_CERTS), which Node
// reads at start-up only, so the trusting publisher runs in a child process on the built package.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type EventsError, silentLogger } from "@kaireon/events-core";
import { sampleDecision } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisPublisher } from "../../src/index.js";

const run = promisify(execFile);
const PASSWORD = "tls-Pa55word";
const dir = mkdtempSync(join(tmpdir(), "kaireon-redis-tls-"));
const cert = join(dir, "cert.pem");
let server: ChildProcess | undefined;
let port = 0;

beforeAll(async () => {
  await run("openssl", [
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"],
    ...["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", cert],
  ]);
  port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  server = spawn(
    process.env.REDIS_SERVER_BIN || "redis-server",
    [
      ...["--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      ...["--tls-cert-file", cert, "--tls-key-file", join(dir, "key.pem"), "--tls-ca-cert-file", cert, "--tls-auth-clients", "no"],
      ...["--requirepass", PASSWORD],
    ],
    { stdio: "ignore" },
  );
  await new Promise((resolve, reject) => {
    server?.once("spawn", resolve);
    server?.once("error", reject);
  });
  await new Promise((r) => setTimeout(r, 500));
});

afterAll(() => {
  server?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("redis over TLS (rediss://)", () => {
  it("publishes over TLS with a password when the CA is trusted", async () => {
    const script = `
      import { createRedisPublisher } from ${JSON.stringify(new URL("../../dist/index.js", import.meta.url).href)};
      const p = createRedisPublisher({ url: process.env.URL, publishTimeoutMs: 5000 });
      const data = JSON.parse(process.env.DATA);
      for (let i = 0; i < 30; i++) {
        const r = await p.publish("decision.made.v1", data).catch((e) => ({ error: e.code }));
        if (!r.error) { console.log(JSON.stringify(r)); break; }
        if (i === 29) console.log(JSON.stringify(r));
        await new Promise((res) => setTimeout(res, 200));
      }
      await p.close();`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: cert,
        URL: `rediss://default:${PASSWORD}@127.0.0.1:${port}`,
        DATA: JSON.stringify(sampleDecision()),
      },
    });
    expect(JSON.parse(stdout.trim().split("\n").pop() as string)).toMatchObject({ backend: "redis", status: "published", receivers: 0 });
  });

  it("fails with a coded error when the certificate is not trusted, without printing the password", async () => {
    const lines: string[] = [];
    const log = (m: string) => lines.push(m);
    const p = createRedisPublisher(
      { url: `rediss://default:${PASSWORD}@127.0.0.1:${port}`, publishTimeoutMs: 1_500 },
      { logger: { ...silentLogger, warn: log, error: log } },
    );
    try {
      const error = (await p.publish("decision.made.v1", sampleDecision()).catch((e: unknown) => e)) as EventsError;
      expect(["CONNECTION_FAILED", "PUBLISH_TIMEOUT"]).toContain(error.code);
      expect([error.message, ...lines].join("\n")).not.toContain(PASSWORD);
      expect(lines.join("\n")).toMatch(/certificate/i);
    } finally {
      await p.close();
    }
  });
});
