// Credentials that expire before the token would: the token is capped at them, and the broker refuses
// a token once they have expired. Real: moto's STS issues role credentials for 20–30 s (AssumeRole
// DurationSeconds; moto has no 900 s minimum), the default credential chain reads them from the
// environment (AWS_CREDENTIAL_EXPIRATION included), the signer, the IAM listener's validator. The
// test tells the validator the session's expiry through KAFKA_TEST_IAM_CREDENTIALS_DIR, because
// moto's state shows a role session's secret but not its expiry (what STS would tell MSK).

import { EventsError } from "@kaireon/events-core";
import { requireService, sampleDecision } from "@kaireon/events-testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { createMskIamTokenProvider, createMskPublisher, type MskTokenGenerator, readMskOptions } from "../../src/index.js";
import { signMskToken } from "../../src/msk-iam-token.js";
import {
  decodeToken as decode,
  type IamListener,
  iamEnv,
  iamListener,
  mskClients,
  quiet,
  shortRoleCredentials,
  uniquePrefix,
} from "./helpers.js";

let iam: IamListener;
let endpoint: string;
const clients = await mskClients();

beforeAll(async () => {
  iam = await iamListener();
  endpoint = await requireService({ variable: "AWS_ENDPOINT_URL", name: "AWS emulator (moto)" });
});

/** Role credentials from moto's STS that last `seconds`, registered with the validator with that expiry. */
const shortCredentials = (seconds: number) =>
  shortRoleCredentials(iam, endpoint, { name: "kaireon-short", sessionName: "short", seconds })();

async function waitUntil(time: number): Promise<void> {
  while (Date.now() < time) await new Promise((r) => setTimeout(r, Math.min(500, time - Date.now() + 10)));
}

describe("msk iam_role with credentials that expire before the token", () => {
  it.each(clients)(
    "$name: the token is capped at the credentials' expiry, with a whole-second X-Amz-Expires the broker verifies",
    async (client) => {
      const creds = await shortCredentials(30);
      process.env.AWS_ACCESS_KEY_ID = creds.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
      process.env.AWS_SESSION_TOKEN = creds.sessionToken;
      process.env.AWS_CREDENTIAL_EXPIRATION = creds.expiration.toISOString();
      const tokenProvider = createMskIamTokenProvider({ region: iam.region, minValidityMs: 2000 });
      const publisher = createMskPublisher(
        { ...readMskOptions(iamEnv(iam, uniquePrefix("shortcreds"), client.env)), kafka: { publishTimeoutMs: 20_000 } },
        { logger: quiet, tokenProvider },
      );
      try {
        // The default chain, as an app on short-lived instance or container credentials runs it.
        await publisher.publish("decision.made.v1", sampleDecision());
        const token = await tokenProvider.token();
        expect(token.expiresAt).toBe(creds.expiration.getTime());
        const q = decode(token.value);
        // The signer alone writes the credentials' remaining life with its milliseconds ("14.873"):
        // not a SigV4 integer, and this broker (the AWS SDK for Java's signer) refused such tokens.
        expect(q.get("X-Amz-Expires")).toMatch(/^\d+$/);
        expect(q.get("X-Amz-Credential")).toContain(creds.accessKeyId);
      } finally {
        await publisher.close();
        delete process.env.AWS_SESSION_TOKEN;
        delete process.env.AWS_CREDENTIAL_EXPIRATION;
      }
    },
  );

  it("once the credentials have expired, the broker refuses a token they signed, however long the token claims to live", async () => {
    const creds = await shortCredentials(20);
    // A signer that ignores the credentials' expiry (the JS signer before 1.0.1, the Python one today):
    // X-Amz-Expires=900, and the client caches the token for 15 min.
    const stale: MskTokenGenerator = ({ region }) =>
      signMskToken(region, async () => ({
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        sessionToken: creds.sessionToken,
      }));
    const signed = await stale({ region: iam.region, roleSessionName: "short", requestTimeoutMs: 10_000 });
    expect(decode(signed.token).get("X-Amz-Expires")).toBe("900");
    const generate: MskTokenGenerator = async () => signed;
    const env = iamEnv(iam, uniquePrefix("expiredcreds"));

    const before = createMskPublisher(
      { ...readMskOptions(env), kafka: { publishTimeoutMs: 20_000 } },
      { logger: quiet, token: { generate } },
    );
    try {
      await before.publish("decision.made.v1", sampleDecision()); // accepted while the credentials live
    } finally {
      await before.close();
    }

    await waitUntil(creds.expiration.getTime() + 1000);
    const after = createMskPublisher(
      { ...readMskOptions(env), kafka: { publishTimeoutMs: 20_000 } },
      { logger: quiet, token: { generate } },
    );
    try {
      const error = await after.publish("decision.made.v1", sampleDecision()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(EventsError.isInstance(error), String(error)).toBe(true);
      expect(error).toMatchObject({ code: "AUTH_FAILED", backend: "msk" });
      let text = "";
      for (let e = error as { message?: string; cause?: unknown } | undefined; e; e = e.cause as never) text += ` <- ${e.message}`;
      expect(text).toContain(`the credentials that signed the token (${creds.accessKeyId}) expired at`);
      expect(text).not.toContain(creds.secretAccessKey);
      expect(text).not.toContain(creds.sessionToken);
    } finally {
      await after.close();
    }
  });
});
