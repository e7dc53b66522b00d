// IAM mode without MSK_ROLE_ARN on EC2: the default credential chain reaches the instance metadata
// service. Off EC2 there is no real one, so a local stand-in answers on 127.0.0.1 (the SDK is pointed
// at it with AWS_EC2_METADATA_SERVICE_ENDPOINT). Its IMDSv2 token request is never answered — what a
// container behind a metadata hop limit of 1 sees — and only IMDSv1 answers: the SDK falls back
// after its own metadata timeout (1 s), so a token is signed well within refreshTimeoutMs. Giving the
// metadata requests refreshTimeoutMs as their timeout made every refresh fail at exactly that bound.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createMskIamTokenProvider } from "../../src/msk-iam-token.js";

let server: Server;
const asked: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(`${req.method} ${req.url}`);
    if (req.url === "/latest/api/token") return; // IMDSv2 token: never answered
    if (req.url === "/latest/meta-data/iam/security-credentials/") return void res.end("kaireon-role");
    if (req.url === "/latest/meta-data/iam/security-credentials/kaireon-role") {
      return void res.end(
        JSON.stringify({
          Code: "Success",
          Type: "AWS-HMAC",
          AccessKeyId: "AKIAIMDSFALLBACK0001",
          SecretAccessKey: "imds-fallback-secret",
          Token: "imds-fallback-session",
          LastUpdated: new Date().toISOString(),
          Expiration: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      );
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  vi.stubEnv("AWS_EC2_METADATA_SERVICE_ENDPOINT", `http://127.0.0.1:${port}`);
  vi.stubEnv("AWS_EC2_METADATA_DISABLED", "false");
  // Nothing earlier in the chain may answer: no keys in the environment, no files, no container.
  for (const name of [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  ])
    vi.stubEnv(name, undefined);
  vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/kaireon-credentials");
  vi.stubEnv("AWS_CONFIG_FILE", "/nonexistent/kaireon-config");
});

afterAll(() => {
  vi.unstubAllEnvs();
  server?.closeAllConnections();
  server?.close();
});

it("the default chain on EC2 with IMDSv2 unreachable falls back to IMDSv1 and signs within refreshTimeoutMs", async () => {
  const provider = createMskIamTokenProvider({ region: "eu-west-1", refreshTimeoutMs: 5_000 });
  const started = Date.now();
  const token = await provider.token();
  expect(token.value.length).toBeGreaterThan(100);
  expect(asked).toContain("PUT /latest/api/token");
  expect(asked).toContain("GET /latest/meta-data/iam/security-credentials/kaireon-role");
  expect(provider.stats()).toMatchObject({ generated: 1, failures: 0 });
  console.log(`IMDSv1 fallback: token after ${Date.now() - started} ms (refreshTimeoutMs 5000)`);
}, 30_000);
