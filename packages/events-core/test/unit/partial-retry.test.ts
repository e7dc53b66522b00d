import { describe, expect, it } from "vitest";
import { sendWithPartialRetry } from "../../src/kit.js";

const noSleep = () => Promise.resolve();

describe("sendWithPartialRetry", () => {
  it("retries only the retryable failures, in order, until they succeed", async () => {
    const requests: string[][] = [];
    let throttled = 2;
    const outcomes = await sendWithPartialRetry(["a", "b", "c", "d"], {
      maxAttempts: 5,
      backoff: { baseMs: 1, maxMs: 1 },
      sleep: noSleep,
      attempt: async (entries) => {
        requests.push(entries);
        return entries.map((e) => {
          if (e === "b") return { ok: false, error: new Error("ValidationException"), retryable: false };
          if ((e === "c" || e === "d") && throttled-- > 0) return { ok: false, error: new Error("ThrottlingException"), retryable: true };
          return { ok: true, value: e.toUpperCase() };
        });
      },
    });
    expect(requests).toEqual([
      ["a", "b", "c", "d"],
      ["c", "d"],
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true, true]);
  });

  it("gives up after maxAttempts and reports the last error per entry", async () => {
    let calls = 0;
    const outcomes = await sendWithPartialRetry([1, 2], {
      maxAttempts: 3,
      backoff: { baseMs: 1, maxMs: 1 },
      sleep: noSleep,
      attempt: async (entries) => {
        calls++;
        return entries.map((n) => (n === 1 ? { ok: true, value: n } : { ok: false, error: new Error(`fail ${calls}`), retryable: true }));
      },
    });
    expect(calls).toBe(3);
    expect(outcomes[0]).toEqual({ ok: true, value: 1 });
    expect(outcomes[1]).toMatchObject({ ok: false, error: new Error("fail 3") });
  });

  it("retries a thrown request only when the error is retryable", async () => {
    let calls = 0;
    const outcomes = await sendWithPartialRetry(["x"], {
      maxAttempts: 4,
      backoff: { baseMs: 1, maxMs: 1 },
      sleep: noSleep,
      isRetryableError: (e) => (e as Error).message === "socket hang up",
      attempt: async () => {
        calls++;
        if (calls === 1) throw new Error("socket hang up");
        throw new Error("AccessDenied");
      },
    });
    expect(calls).toBe(2);
    expect(outcomes[0]).toMatchObject({ ok: false, error: new Error("AccessDenied") });
  });
});
