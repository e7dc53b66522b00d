// The IAM token itself, made by the real aws-msk-iam-sasl-signer-js with known static credentials.
// Real: the signer and its SigV4 presigning; the signature is re-computed here from the secret key.
// Not real (cannot be, here): an MSK broker accepting the token — there is no MSK emulator, and the
// SigV4 check happens inside MSK. The role path against a real STS emulator (moto) is in
// test/integration/msk-iam-role.test.ts.
import { createHash, createHmac } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMskIamTokenProvider, signMskToken } from "../../src/msk-iam-token.js";

const ACCESS_KEY = "AKIAKAIREONTEST00001";
const SECRET_KEY = "kaireon-test-secret-key/0123456789abcdefgh";

function decode(token: string): URL {
  expect(token).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(token, "base64url").toString("utf8"));
}

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();
const sha256 = (data: string) => createHash("sha256").update(data).digest("hex");

/** SigV4 query-string signature of the presigned GET, re-computed with the secret key. */
function expectedSignature(url: URL, secret: string): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== "X-Amz-Signature" && k !== "User-Agent"); // User-Agent is added after signing
  const query = params
    .map(([k, v]): [string, string] => [enc(k), enc(v)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonical = ["GET", "/", query, `host:${url.host}\n`, "host", sha256("")].join("\n");
  const amzDate = url.searchParams.get("X-Amz-Date") as string;
  const [, date, region, service] = (url.searchParams.get("X-Amz-Credential") as string).split("/") as string[];
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date as string), region as string), service as string), "aws4_request");
  return hmac(key, toSign).toString("hex");
}

describe("the IAM auth token (real signer, static credentials)", () => {
  beforeEach(() => {
    // The default credential chain reads these first; nothing else (profiles, IMDS) is consulted.
    vi.stubEnv("AWS_ACCESS_KEY_ID", ACCESS_KEY);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    vi.stubEnv("AWS_SESSION_TOKEN", "");
    vi.stubEnv("AWS_PROFILE", "");
  });
  afterEach(() => vi.unstubAllEnvs());

  it("is a base64url SigV4-presigned kafka-cluster:Connect URL for the region, signed with the given key, 15 min", async () => {
    const before = Date.now();
    const provider = createMskIamTokenProvider({ region: "eu-central-1" });
    const token = await provider.token();
    const url = decode(token.value);

    expect(url.protocol).toBe("https:");
    expect(url.host).toBe("kafka.eu-central-1.amazonaws.com");
    expect(url.pathname).toBe("/");
    const q = url.searchParams;
    expect(q.get("Action")).toBe("kafka-cluster:Connect");
    expect(q.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    const amzDate = q.get("X-Amz-Date") as string;
    expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/);
    expect(q.get("X-Amz-Credential")).toBe(`${ACCESS_KEY}/${amzDate.slice(0, 8)}/eu-central-1/kafka-cluster/aws4_request`);
    expect(q.get("X-Amz-Expires")).toBe("900");
    expect(q.get("X-Amz-SignedHeaders")).toBe("host");
    expect(q.get("X-Amz-Security-Token")).toBeNull(); // long-term keys: no session token
    expect(q.get("User-Agent")).toMatch(/^aws-msk-iam-sasl-signer-js\/\d+\.\d+\.\d+$/);
    const signature = q.get("X-Amz-Signature") as string;
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(signature).toBe(expectedSignature(url, SECRET_KEY));
    expect(signature).not.toBe(expectedSignature(url, `${SECRET_KEY}x`));

    // Expiry: X-Amz-Date (whole seconds) + 900 s, and the provider refreshes 3 min before it.
    const signedAt = Date.UTC(
      +amzDate.slice(0, 4),
      +amzDate.slice(4, 6) - 1,
      +amzDate.slice(6, 8),
      +amzDate.slice(9, 11),
      +amzDate.slice(11, 13),
      +amzDate.slice(13, 15),
    );
    expect(signedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(token.expiresAt).toBe(signedAt + 900_000);
    expect(token.refreshAt).toBe(token.expiresAt - 180_000);
    expect(token.value).not.toContain(SECRET_KEY);
  });

  it("carries the session token of temporary credentials", async () => {
    vi.stubEnv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEKaireonSessionToken");
    const url = decode((await createMskIamTokenProvider({ region: "us-east-1" }).token()).value);
    expect(url.host).toBe("kafka.us-east-1.amazonaws.com");
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe("FwoGZXIvYXdzEKaireonSessionToken");
    expect(url.searchParams.get("X-Amz-Signature")).toBe(expectedSignature(url, SECRET_KEY));
  });

  it("without credentials: a coded AUTH_FAILED error that names region and variables, no secret", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "");
    vi.stubEnv("AWS_CONFIG_FILE", "/nonexistent");
    vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
    vi.stubEnv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "");
    vi.stubEnv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "");
    vi.stubEnv("AWS_WEB_IDENTITY_TOKEN_FILE", "");
    const error = await createMskIamTokenProvider({ region: "us-east-1" })
      .token()
      .then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
    expect(error?.code).toBe("AUTH_FAILED");
    expect(error?.message).toMatch(/^\[msk\] could not sign an IAM auth token: .*region us-east-1, with the default credential chain\)/);
  });
});

describe("a token signed with credentials that expire within 15 min", () => {
  it("has a whole-second X-Amz-Expires (SigV4's integer) and expires with the credentials", async () => {
    const expiration = new Date(Date.now() + 30_500);
    const signed = await signMskToken("eu-west-1", async () => ({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, expiration }));
    const url = decode(signed.token);
    // The signer, shown the expiry, would write the remaining life with its milliseconds ("30.499").
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(url.searchParams.get("X-Amz-Signature")).toBe(expectedSignature(url, SECRET_KEY));
    expect(signed.expiryTime).toBe(expiration.getTime());
  });

  it("credentials without an expiry: the signer's 15 min", async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const signed = await signMskToken("eu-west-1", async () => ({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }));
    expect(signed.expiryTime).toBeGreaterThanOrEqual(before + 900_000);
    expect(signed.expiryTime).toBeLessThanOrEqual(Date.now() + 900_000);
  });
});
