// IAM mode's token refresh on a faulty wire: a Toxiproxy proxy between the signer's STS client
// (aws-msk-iam-sasl-signer-js assuming MSK_ROLE_ARN) and moto's STS. The signer takes no endpoint
// option; its STS client reads AWS_ENDPOINT_URL, pointed at the proxy here. Each scenario: a token
// request under the fault settles — a token, or AUTH_FAILED within MSK's refreshTimeoutMs (never a
// hang) — without a secret in the error or the log; once the link heals, the same provider signs
// again. A cached token still good is served through the fault. (MSK accepting the token is not
// testable here: see msk-iam-role.test.ts.)
import { EventsError } from "@kaireon/events-core";
import { requireService, Toxiproxy, type ToxiproxyProxy, type WireFaultName, wireFaults } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createMskIamTokenProvider, type MskIamTokenProvider } from "../../src/index.js";

const ROLE_ARN = "arn:aws:iam::123456789012:role/kaireon-wire";
const SECRET = "wire-fault-MSK-S3cretAccessKey";
/** Above the `slow` scenario's 2.5 s round trip, so a slow STS is slow, not failed. */
const REFRESH_TIMEOUT_MS = 5_000;
let toxiproxy: Toxiproxy;
let upstream: string;
const figures: string[] = [];

beforeAll(async () => {
  upstream = new URL(await requireService({ variable: "AWS_ENDPOINT_URL", name: "AWS emulator (moto)" })).host;
  toxiproxy = await Toxiproxy.fromEnv();
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", SECRET);
});
afterAll(() => {
  vi.unstubAllEnvs();
  if (figures.length > 0) console.log(`[wire faults] msk IAM token (STS through the proxy)\n  ${figures.join("\n  ")}`);
});

function provider(lines: string[], overrides: Partial<Parameters<typeof createMskIamTokenProvider>[0]> = {}): MskIamTokenProvider {
  const record = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${message} ${fields ? JSON.stringify(fields) : ""}`);
  return createMskIamTokenProvider({
    region: "eu-west-1",
    roleArn: ROLE_ARN,
    refreshTimeoutMs: REFRESH_TIMEOUT_MS,
    logger: { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") },
    ...overrides,
  });
}

async function attempt(p: MskIamTokenProvider): Promise<{ ms: number; error?: EventsError; value?: string }> {
  const at = Date.now();
  try {
    const token = await p.token();
    return { ms: Date.now() - at, value: token.value };
  } catch (error) {
    expect(EventsError.isInstance(error), String(error)).toBe(true);
    return { ms: Date.now() - at, error: error as EventsError };
  }
}

function noSecret(lines: string[], error: EventsError | undefined): void {
  const texts = [...lines, `${String(error)} ${JSON.stringify(error)} ${String(error?.cause)} ${error?.stack}`];
  expect(texts.filter((t) => t.includes(SECRET))).toEqual([]);
}

const scenarios: WireFaultName[] = ["down", "blackHole", "lostAnswers", "slow", "reset"];

describe("msk IAM token refresh with STS behind a faulty wire", () => {
  for (const scenario of scenarios) {
    it(`${scenario}: a token or AUTH_FAILED within refreshTimeoutMs, no secret, and the same provider signs again after the heal`, async () => {
      const proxy: ToxiproxyProxy = await toxiproxy.createProxy(`msk-sts-${scenario}-${Date.now()}`, upstream);
      vi.stubEnv("AWS_ENDPOINT_URL", `http://${proxy.listen}`);
      const lines: string[] = [];
      const p = provider(lines);
      try {
        const heal = await proxy.apply(wireFaults[scenario]);
        let during: Awaited<ReturnType<typeof attempt>>;
        try {
          during = await attempt(p);
        } finally {
          await heal();
        }
        if (during.error) {
          expect(during.error.code).toBe("AUTH_FAILED");
          expect(during.error.message).toContain(`assuming ${ROLE_ARN}`);
        }
        noSecret(lines, during.error);
        const healedAt = Date.now();
        let after = await attempt(p);
        while (after.error && Date.now() - healedAt < 30_000) {
          await new Promise((r) => setTimeout(r, 250));
          after = await attempt(p);
        }
        expect(after.error, "a token after the heal").toBeUndefined();
        const outcome = during.error
          ? `${during.error.code}${during.error.details?.timedOut ? " (timed out)" : ""} after ${during.ms} ms`
          : `token after ${during.ms} ms`;
        figures.push(
          `${scenario}: ${outcome}; signed again ${Date.now() - healedAt} ms after the heal; stats ${JSON.stringify(p.stats())}`,
        );
      } finally {
        await proxy.delete();
      }
    }, 60_000);
  }

  it("black hole for several refresh attempts: each gives up at refreshTimeoutMs and its STS request then ends by itself (no socket held per attempt)", async () => {
    const proxy = await toxiproxy.createProxy(`msk-sts-unanswered-${Date.now()}`, upstream);
    vi.stubEnv("AWS_ENDPOINT_URL", `http://${proxy.listen}`);
    const lines: string[] = [];
    const p = provider(lines, { refreshTimeoutMs: 1_000 });
    const heal = await proxy.apply(wireFaults.blackHole);
    try {
      for (let i = 0; i < 3; i++) {
        const during = await attempt(p);
        expect(during.error?.details?.timedOut, `attempt ${i + 1}: ${during.error?.message}`).toBe(true);
      }
      const gaveUp = p.stats().unanswered;
      // Each STS request is bounded by refreshTimeoutMs, three attempts with the SDK's backoff: the
      // abandoned calls end within seconds (before: they hung for as long as the link did).
      const deadline = Date.now() + 20_000;
      while (p.stats().unanswered > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(p.stats().unanswered, "signer calls still hanging on the black-holed link").toBe(0);
      noSecret(lines, undefined);
      figures.push(
        `black hole, 3 refresh attempts of 1 s: ${gaveUp} signer calls unanswered when the third gave up, 0 after the SDK's own bound`,
      );
    } finally {
      await heal();
      await proxy.delete();
    }
  }, 60_000);

  it("black hole at refresh time: the cached token is served at once while the refresh gives up in the background, and a new one is signed after the heal", async () => {
    const proxy = await toxiproxy.createProxy(`msk-sts-cached-${Date.now()}`, upstream);
    vi.stubEnv("AWS_ENDPOINT_URL", `http://${proxy.listen}`);
    let clock = Date.now();
    const lines: string[] = [];
    const p = provider(lines, { now: () => clock });
    const refreshFailed = () => lines.some((l) => l.includes("using the cached token until it expires"));
    try {
      const first = await p.token();
      // Past its refresh time, still far from its expiry.
      clock = first.refreshAt + 1_000;
      const heal = await proxy.apply(wireFaults.blackHole);
      let served: Awaited<ReturnType<typeof attempt>>;
      try {
        served = await attempt(p);
        expect(served.value, "the cached token").toBe(first.value);
        // The refresh it started is bounded by refreshTimeoutMs and logged when it gives up.
        const deadline = Date.now() + REFRESH_TIMEOUT_MS + 20_000;
        while (!refreshFailed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(refreshFailed(), lines.join("\n")).toBe(true);
      } finally {
        await heal();
      }
      noSecret(lines, undefined);
      // After the heal a due request still gets the cached token and refreshes behind it: a new one follows.
      let fresh = await attempt(p);
      const deadline = Date.now() + 30_000;
      while (!fresh.error && fresh.value === first.value && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        fresh = await attempt(p);
      }
      expect(fresh.error).toBeUndefined();
      expect(fresh.value).not.toBe(first.value);
      figures.push(
        `cached token during a black hole: served after ${served.ms} ms, the refresh gave up in the background after refreshTimeoutMs; a new one signed after the heal`,
      );
    } finally {
      await proxy.delete();
    }
  }, 60_000);
});
