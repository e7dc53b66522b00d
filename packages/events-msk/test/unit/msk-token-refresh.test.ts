// Token caching and refresh with a fake clock. The signer is replaced by a fake generator here: its
// expiry comes from the real wall clock, and what is tested is this package's cache and refresh
// logic over days of fake time (no MSK, no STS involved). The fake follows the real signer's rules:
// 15 min tokens, capped by the expiry of the credentials that signed them.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createMskIamTokenProvider, type MskTokenRequest } from "../../src/msk-iam-token.js";

const MIN = 60_000;
const HOUR = 60 * MIN;

/**
 * Instance/container credentials rotate every 6 h; the SDK's providers hand them out until 5 min
 * before they expire, then fetch new ones (`refreshBefore` 0 models a source that serves them to the end).
 */
function fakeSigner(clock: { now: number }, options: { credentialsLifetime?: number; refreshBefore?: number; latency?: number } = {}) {
  const lifetime = options.credentialsLifetime ?? 6 * HOUR;
  const refreshBefore = options.refreshBefore ?? 5 * MIN;
  const calls: MskTokenRequest[] = [];
  let fail: Error | undefined;
  const generate = async (request: MskTokenRequest) => {
    calls.push(request);
    if (options.latency) await new Promise((r) => setTimeout(r, options.latency));
    if (fail) throw fail;
    const credentialsExpire = (Math.floor((clock.now + refreshBefore) / lifetime) + 1) * lifetime;
    const expiryTime = Math.min(clock.now + 15 * MIN, credentialsExpire);
    return { token: Buffer.from(JSON.stringify({ issued: clock.now, expiryTime })).toString("base64url"), expiryTime };
  };
  return {
    generate,
    calls,
    failWith(error: Error | undefined) {
      fail = error;
    },
  };
}

const expiryOf = (value: string) => (JSON.parse(Buffer.from(value, "base64url").toString()) as { expiryTime: number }).expiryTime;

describe("MskIamTokenProvider", () => {
  it("caches the token and refreshes it 3 min before it expires (in the background: the due request gets the valid cached one)", async () => {
    const clock = { now: Date.UTC(2026, 0, 1) };
    const signer = fakeSigner(clock);
    const provider = createMskIamTokenProvider({ region: "us-east-1", now: () => clock.now, generate: signer.generate });
    const first = await provider.token();
    expect(first.expiresAt - clock.now).toBe(15 * MIN);
    clock.now += 11 * MIN;
    expect((await provider.token()).value).toBe(first.value);
    expect(signer.calls).toHaveLength(1);
    clock.now += 1 * MIN + 1; // 12 min + 1 ms: inside the 3 min margin
    expect((await provider.token()).value).toBe(first.value); // still valid: served while the refresh runs
    expect(signer.calls).toHaveLength(2);
    await vi.waitFor(() => expect(provider.stats().generated).toBe(2)); // counted once the new token is cached
    const second = await provider.token();
    expect(second.value).not.toBe(first.value);
    expect(signer.calls).toHaveLength(2);
    expect(provider.stats()).toEqual({ generated: 2, served: 4, failures: 0, unanswered: 0 });
  });

  it("a long-lived client (3 days of connects and re-authentications) never gets an expired or nearly expired token", async () => {
    const clock = { now: Date.UTC(2026, 0, 1, 0, 7) };
    const signer = fakeSigner(clock);
    const provider = createMskIamTokenProvider({ region: "eu-west-1", now: () => clock.now, generate: signer.generate });
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const end = clock.now + 72 * HOUR;
    let authentications = 0;
    while (clock.now < end && authentications < 20_000) {
      // As kafkajs does: authenticate, then re-authenticate 10 s before the session the broker granted
      // (MSK grants the token's remaining lifetime) ends; sometimes a reconnect comes earlier.
      const { value } = await provider.oauthBearerProvider();
      authentications++;
      const remaining = expiryOf(value) - clock.now;
      expect(remaining, `token handed out at ${new Date(clock.now).toISOString()}`).toBeGreaterThanOrEqual(10_000);
      const session = remaining - 10_000;
      clock.now += Math.max(1000, random() < 0.3 ? Math.floor(random() * session) : session);
    }
    // Credentials rotate every 6 h: tokens made shortly before a rotation are short, so a few more than 72 h / 12 min.
    expect(signer.calls.length).toBeGreaterThanOrEqual((72 * 60) / 15);
    expect(signer.calls.length).toBeLessThan(authentications);
    expect(signer.calls.every((c) => c.region === "eu-west-1" && c.roleSessionName === "kaireon-events")).toBe(true);
  });

  it("refreshes a short token (credentials about to expire) within half its life", async () => {
    const clock = { now: 6 * HOUR - 4 * MIN }; // credentials expire in 4 min
    const signer = fakeSigner(clock, { refreshBefore: 0 });
    const provider = createMskIamTokenProvider({ region: "us-east-1", now: () => clock.now, generate: signer.generate });
    const token = await provider.token();
    expect(token.expiresAt - clock.now).toBe(4 * MIN);
    expect(token.refreshAt - clock.now).toBe(2 * MIN);
  });

  it("one signer call for many concurrent connections (single flight)", async () => {
    const clock = { now: 1_000_000 };
    const signer = fakeSigner(clock, { latency: 20 });
    const provider = createMskIamTokenProvider({ region: "us-east-1", now: () => clock.now, generate: signer.generate });
    const tokens = await Promise.all(Array.from({ length: 12 }, () => provider.oauthBearerProvider()));
    expect(new Set(tokens.map((t) => t.value)).size).toBe(1);
    expect(signer.calls).toHaveLength(1);
  });

  it("when a refresh fails it serves the cached token while it is valid, then fails with AUTH_FAILED", async () => {
    const clock = { now: 0 };
    const signer = fakeSigner(clock);
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const provider = createMskIamTokenProvider({ region: "us-east-1", now: () => clock.now, generate: signer.generate, logger });
    const first = await provider.token();
    signer.failWith(new Error("STS throttled"));
    clock.now += 13 * MIN;
    expect((await provider.token()).value).toBe(first.value);
    await vi.waitFor(() => expect(warnings.join()).toContain("IAM token refresh failed"));
    clock.now = first.expiresAt - 5_000; // less than the 10 s minimum left
    await expect(provider.token()).rejects.toMatchObject({ code: "AUTH_FAILED", backend: "msk" });
    await expect(provider.token()).rejects.toThrow(/could not sign an IAM auth token: STS throttled/);
    signer.failWith(undefined);
    expect((await provider.token()).value).not.toBe(first.value);
    expect(provider.stats().failures).toBe(3);
  });

  it("refuses a token whose credentials are already expired (the signer then signs a negative X-Amz-Expires)", async () => {
    const clock = { now: 0 };
    const provider = createMskIamTokenProvider({
      region: "us-east-1",
      now: () => clock.now,
      generate: async () => ({ token: "dG9rZW4", expiryTime: clock.now - 1000 }),
    });
    await expect(provider.token()).rejects.toThrow(/expires in -1 s — the AWS credentials are expired or about to/);
  });

  it("invalidate() forces a new token on the next request", async () => {
    const clock = { now: 0 };
    const signer = fakeSigner(clock);
    const provider = createMskIamTokenProvider({ region: "us-east-1", now: () => clock.now, generate: signer.generate });
    await provider.token();
    provider.invalidate();
    clock.now += 1;
    await provider.token();
    expect(signer.calls).toHaveLength(2);
  });
});

// A signer that never answers (STS or the instance metadata endpoint hung) and short token lifetimes.
// The signer is a fake here for the same reason as above; the bound is proven with fake timers.
describe("MskIamTokenProvider: a hung signer and short tokens", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A signer whose calls hang until `hang` is switched off; tokens live `lifetime` ms. */
  function hangingSigner(clock: { now: number }, lifetime = 15 * MIN) {
    const state = { hang: false, calls: 0, seq: 0 };
    const generate = (_request: MskTokenRequest) => {
      state.calls++;
      if (state.hang) return new Promise<never>(() => {});
      return Promise.resolve({ token: `tok-${++state.seq}-${clock.now}`, expiryTime: clock.now + lifetime });
    };
    return { generate, state };
  }

  /** Whether a promise has settled, without waiting for it. */
  async function settled(promise: Promise<unknown>): Promise<boolean> {
    let done = false;
    promise.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    for (let i = 0; i < 20; i++) await Promise.resolve();
    return done;
  }

  it("a refresh that never settles rejects after refreshTimeoutMs (default 10 s) with a coded error, no credential in it", async () => {
    vi.useFakeTimers();
    const clock = { now: 0 };
    const signer = hangingSigner(clock);
    signer.state.hang = true;
    const provider = createMskIamTokenProvider({ region: "us-east-1", now: () => clock.now, generate: signer.generate });
    const pending = provider.token();
    pending.catch(() => {});
    await vi.advanceTimersByTimeAsync(9_999);
    expect(await settled(pending)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(pending), "token() still waiting 10 s after the signer hung").toBe(true);
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "AUTH_FAILED", backend: "msk", details: { timedOut: true, timeoutMs: 10_000 } });
    expect((error as Error).message).toMatch(/did not answer within 10000 ms/);
    expect(provider.stats().failures).toBe(1);
  });

  it("while a refresh hangs, the valid cached token is served at once, also to the request that started it; the refresh gives up after refreshTimeoutMs, logged without a credential", async () => {
    vi.useFakeTimers();
    const clock = { now: 0 };
    const signer = hangingSigner(clock);
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string, f?: unknown) => warnings.push(m + JSON.stringify(f)), error() {} };
    const provider = createMskIamTokenProvider({ region: "us-east-1", now: () => clock.now, generate: signer.generate, logger });
    const first = await provider.token();
    signer.state.hang = true;
    clock.now = first.refreshAt + 1;
    // The request that finds the token due (kafkajs holds that broker's lock while it waits).
    const refresher = provider.token();
    expect(await settled(refresher), "the request that started the refresh waited on the hung signer").toBe(true);
    expect((await refresher).value).toBe(first.value);
    // Another broker connection authenticates meanwhile.
    const other = provider.token();
    expect(await settled(other), "a second caller waited on the hung refresh").toBe(true);
    expect((await other).value).toBe(first.value);
    expect(signer.state.calls).toBe(2); // single flight: the second caller started no signer call
    expect(warnings).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(warnings.join()).toContain("IAM token refresh failed");
    expect(warnings.join()).toContain("did not answer within 10000 ms");
    expect(warnings.join()).not.toContain(first.value);
    expect(provider.stats().failures).toBe(1);
    // The hung attempt is forgotten: once the signer answers again the next due request refreshes.
    signer.state.hang = false;
    expect((await provider.token()).value).toBe(first.value);
    await vi.advanceTimersByTimeAsync(0);
    expect((await provider.token()).value).toMatch(/^tok-2-/);
    expect(signer.state.calls).toBe(3);
  });

  it("an expired cached token is never served: with no valid token the request waits for the signer, bounded", async () => {
    vi.useFakeTimers();
    const clock = { now: 0 };
    const signer = hangingSigner(clock);
    const provider = createMskIamTokenProvider({
      region: "us-east-1",
      now: () => clock.now,
      generate: signer.generate,
      refreshTimeoutMs: 2000,
    });
    const first = await provider.token();
    signer.state.hang = true;
    clock.now = first.expiresAt - 9_999; // less than minValidityMs (10 s) left
    const pending = provider.token();
    pending.catch(() => {});
    expect(await settled(pending)).toBe(false);
    await vi.advanceTimersByTimeAsync(2000);
    await expect(pending).rejects.toMatchObject({ code: "AUTH_FAILED", details: { timedOut: true } });
  });

  it("after a timed-out refresh the next call signs again (the hung attempt is forgotten)", async () => {
    vi.useFakeTimers();
    const clock = { now: 0 };
    const signer = hangingSigner(clock);
    signer.state.hang = true;
    const provider = createMskIamTokenProvider({
      region: "us-east-1",
      now: () => clock.now,
      generate: signer.generate,
      refreshTimeoutMs: 2000,
    });
    const hung = provider.token();
    hung.catch(() => {});
    await vi.advanceTimersByTimeAsync(2000);
    expect(await settled(hung), "token() still waiting after refreshTimeoutMs").toBe(true);
    await expect(hung).rejects.toMatchObject({ code: "AUTH_FAILED" });
    signer.state.hang = false;
    const next = provider.token();
    expect(await settled(next), "the next call waited on the hung attempt").toBe(true);
    expect((await next).value).toMatch(/^tok-/);
    expect(signer.state.calls).toBe(2);
  });

  for (const lifetimeS of [5, 12, 15, 19, 30, 60]) {
    it(`a ${lifetimeS} s token lifetime never hands out a token with less than minValidityMs (10 s) left`, async () => {
      const clock = { now: 1_000_000 };
      const signer = hangingSigner(clock, lifetimeS * 1000);
      const provider = createMskIamTokenProvider({ region: "us-east-1", now: () => clock.now, generate: signer.generate });
      const served: number[] = [];
      let refused = 0;
      for (let step = 0; step < 4 * lifetimeS * 4; step++) {
        try {
          const token = await provider.token();
          served.push(token.expiresAt - clock.now);
        } catch (error) {
          expect(error).toMatchObject({ code: "AUTH_FAILED" });
          refused++;
        }
        clock.now += 250;
      }
      for (const left of served) expect(left, `served with ${left} ms left`).toBeGreaterThanOrEqual(10_000);
      if (lifetimeS * 1000 < 10_000) {
        // Shorter than minValidityMs itself: no token is ever usable; each request signs again and fails.
        expect(served).toHaveLength(0);
        expect(signer.state.calls).toBe(refused);
      } else {
        expect(refused).toBe(0);
        expect(signer.state.calls).toBeLessThan(served.length);
      }
    });
  }
});
