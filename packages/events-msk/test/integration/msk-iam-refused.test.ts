// Tokens the broker must refuse, through the IAM listener whose validator (tooling/msk-iam-validator)
// recomputes the SigV4 signature with the AWS SDK for Java's signer: each is refused at the SASL step
// with AUTH_FAILED naming the cause — at once, not at the publish bound — and no secret appears in the
// error, its causes, or ready(). Real: the signer, TLS, SASL OAUTHBEARER, the validator. The expired
// token is made by the real signer under a clock set 20 min back (a client with a stale cached token
// or a skewed clock); its provider is told it is fresh, so only the broker can refuse it.

import { EventsError } from "@kaireon/events-core";
import { sampleDecision } from "@kaireon/events-testkit";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createMskPublisher, type MskTokenGenerator, readMskOptions } from "../../src/index.js";
import { signMskToken } from "../../src/msk-iam-token.js";
import { type IamListener, iamEnv, iamListener, mskClients, quiet, uniquePrefix, useIamTestKey } from "./helpers.js";

const WRONG_SECRET = "wrong-Secret-0123456789abcdefghijklmnopq";
let iam: IamListener;

beforeAll(async () => {
  iam = await iamListener();
  useIamTestKey(iam);
});
afterEach(() => vi.useRealTimers());

function chain(error: unknown): string {
  const out: string[] = [];
  for (
    let e = error as { message?: string; cause?: unknown; originalError?: unknown } | undefined;
    e && out.length < 8;
    e = (e.originalError ?? e.cause) as never
  )
    out.push(String(e.message));
  return out.join(" <- ");
}

/** Publishes once; the error, how long it took, and ready() after it. */
async function refused(env: Record<string, string>, generate?: MskTokenGenerator) {
  const publisher = createMskPublisher(
    { ...readMskOptions(env), kafka: { publishTimeoutMs: 30_000 } },
    {
      logger: quiet,
      ...(generate ? { token: { generate } } : {}),
    },
  );
  try {
    const started = Date.now();
    const error = await publisher.publish("decision.made.v1", sampleDecision()).then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = Date.now() - started;
    expect(EventsError.isInstance(error), String(error)).toBe(true);
    const ready = await publisher.ready();
    const text = JSON.stringify({ chain: chain(error), details: (error as EventsError).details, ready });
    for (const secret of [WRONG_SECRET, iam.secretAccessKey]) expect(text).not.toContain(secret);
    console.info(`[msk iam refused] ${(error as EventsError).code} after ${ms} ms: ${chain(error).slice(0, 400)}`);
    return { error: error as EventsError, chain: chain(error), ready };
  } finally {
    await publisher.close();
  }
}

function expectRefusedBecause(result: Awaited<ReturnType<typeof refused>>, cause: string) {
  // AUTH_FAILED, not PUBLISH_TIMEOUT: the broker's answer ended the publish, well inside its 30 s bound.
  expect(result.error).toMatchObject({ code: "AUTH_FAILED", backend: "msk" });
  expect(result.error.details?.mechanism).toBe("oauthbearer");
  expect(result.error.message).toContain("the broker refused IAM authentication");
  expect(result.chain).toContain("MSK IAM token refused");
  expect(result.chain).toContain(cause);
  expect(result.ready.ready).toBe(false);
}

for (const client of await mskClients())
  describe(`msk iam_role on ${client.name}: tokens the verifying broker refuses`, () => {
    it("signed with the wrong secret key: the signature does not match", async () => {
      const generate: MskTokenGenerator = ({ region }) =>
        signMskToken(region, async () => ({ accessKeyId: iam.accessKeyId, secretAccessKey: WRONG_SECRET }));
      const result = await refused(iamEnv(iam, uniquePrefix("refused"), client.env), generate);
      expectRefusedBecause(result, `signature does not match: it was not signed with the secret key of ${iam.accessKeyId}`);
    });

    it("signed for another region: names both regions and MSK_REGION", async () => {
      const result = await refused(iamEnv(iam, uniquePrefix("refused"), { ...client.env, MSK_REGION: "us-west-2" }));
      expectRefusedBecause(result, `signed for region us-west-2, but this cluster is in ${iam.region} (set MSK_REGION`);
    });

    it("expired: says when it expired", async () => {
      const generate: MskTokenGenerator = async ({ region }) => {
        vi.useFakeTimers({ now: Date.now() - 20 * 60_000, toFake: ["Date"] });
        let token: string;
        try {
          token = (await signMskToken(region, async () => ({ accessKeyId: iam.accessKeyId, secretAccessKey: iam.secretAccessKey }))).token;
        } finally {
          vi.useRealTimers();
        }
        return { token, expiryTime: Date.now() + 15 * 60_000 }; // the client believes it fresh
      };
      const result = await refused(iamEnv(iam, uniquePrefix("refused"), client.env), generate);
      expectRefusedBecause(result, "the token expired at");
    });

    it("an access key the cluster does not know", async () => {
      const generate: MskTokenGenerator = ({ region }) =>
        signMskToken(region, async () => ({ accessKeyId: "AKIAKAIREONUNKNOWN01", secretAccessKey: WRONG_SECRET }));
      const result = await refused(iamEnv(iam, uniquePrefix("refused"), client.env), generate);
      expectRefusedBecause(result, "the access key AKIAKAIREONUNKNOWN01 is not known");
    });
  });
