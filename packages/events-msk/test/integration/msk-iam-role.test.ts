// IAM mode with MSK_ROLE_ARN: the signer assumes the role through STS, and the token is signed with
// the role session's temporary credentials. Real: STS is moto's emulator (tooling/services/moto.sh);
// the signer's own STS client finds it through AWS_ENDPOINT_URL, which AWS SDK v3 clients read when no
// endpoint is configured in code (the signer takes no endpoint option; nothing else is needed).
// Not real (cannot be here): MSK accepting the token — no MSK emulator exists; moto does not check
// signatures either. What the token must contain is checked here and in test/unit.

import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { requireService } from "@kaireon/events-testkit";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createMskIamTokenProvider } from "../../src/index.js";

const ROLE_ARN = "arn:aws:iam::123456789012:role/kaireon-publisher";
let endpoint: string;

beforeAll(async () => {
  endpoint = await requireService({ variable: "AWS_ENDPOINT_URL", name: "AWS emulator (moto)" });
});
afterEach(() => vi.unstubAllEnvs());

function decode(token: string): URLSearchParams {
  return new URL(Buffer.from(token, "base64url").toString("utf8")).searchParams;
}

describe("IAM token from an assumed role (moto STS)", () => {
  it("signs with the role session's temporary credentials, for kafka-cluster:Connect in the region", async () => {
    const before = Date.now();
    const provider = createMskIamTokenProvider({ region: "eu-west-1", roleArn: ROLE_ARN });
    const token = await provider.token();
    const q = decode(token.value);
    const [accessKeyId, , region, service] = (q.get("X-Amz-Credential") as string).split("/");
    expect(q.get("Action")).toBe("kafka-cluster:Connect");
    expect([region, service]).toEqual(["eu-west-1", "kafka-cluster"]);
    expect(accessKeyId).toMatch(/^ASIA/); // temporary credentials from STS, not the static keys of the environment
    expect(accessKeyId).not.toBe(process.env.AWS_ACCESS_KEY_ID);
    const sessionToken = q.get("X-Amz-Security-Token") as string;
    expect(sessionToken.length).toBeGreaterThan(20);
    expect(q.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    // AssumeRole credentials last 1 h by default: the 15 min cap applies.
    expect(q.get("X-Amz-Expires")).toBe("900");
    expect(token.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 900_000);
    expect(token.expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);

    // Whose credentials are these? Ask the same STS: moto maps the access key to the role session.
    const sts = new STSClient({
      endpoint,
      region: "eu-west-1",
      credentials: { accessKeyId: accessKeyId as string, secretAccessKey: "moto-does-not-verify", sessionToken },
    });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe("arn:aws:sts::123456789012:assumed-role/kaireon-publisher/kaireon-events");
  });

  it("caches: a second request within the token's life makes no new STS call", async () => {
    const provider = createMskIamTokenProvider({ region: "us-east-1", roleArn: ROLE_ARN, roleSessionName: "analytics-worker" });
    const first = await provider.token();
    const second = await provider.oauthBearerProvider();
    expect(second.value).toBe(first.value);
    expect(provider.stats()).toMatchObject({ generated: 1, served: 2, failures: 0 });
    const q = decode(first.value);
    const sts = new STSClient({
      endpoint,
      region: "us-east-1",
      credentials: {
        accessKeyId: (q.get("X-Amz-Credential") as string).split("/")[0] as string,
        secretAccessKey: "x",
        sessionToken: q.get("X-Amz-Security-Token") as string,
      },
    });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(
      "arn:aws:sts::123456789012:assumed-role/kaireon-publisher/analytics-worker",
    );
  });

  it("STS unreachable: AUTH_FAILED naming the role and region, no secret", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:1");
    const provider = createMskIamTokenProvider({ region: "eu-west-1", roleArn: ROLE_ARN });
    const error = await provider.token().then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(error?.code).toBe("AUTH_FAILED");
    expect(error?.message).toContain(`region eu-west-1, assuming ${ROLE_ARN}`);
    expect(error?.message).not.toContain(process.env.AWS_SECRET_ACCESS_KEY ?? "no-secret-set");
    expect(provider.stats().failures).toBe(1);
  }, 60_000);
});
