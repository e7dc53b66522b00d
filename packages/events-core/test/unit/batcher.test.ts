import { describe, expect, it, vi } from "vitest";
import { Batcher, type ItemOutcome } from "../../src/kit.js";

function recorder(delayMs = 5) {
  const batches: number[][] = [];
  const send = async (items: number[]): Promise<ItemOutcome<number>[]> => {
    batches.push(items);
    await new Promise((r) => setTimeout(r, delayMs));
    return items.map((value) => ({ ok: true, value }));
  };
  return { batches, send };
}

describe("Batcher", () => {
  it("gathers concurrent adds into batches of at most maxBatchSize, in order", async () => {
    const { batches, send } = recorder();
    const b = new Batcher<number, number>({ backend: "test", send, maxBatchSize: 100, lingerMs: 0, maxQueued: 10_000, timeoutMs: 5000 });
    const values = await Promise.all(Array.from({ length: 1000 }, (_, i) => b.add(i)));
    expect(values).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(batches.length).toBeLessThanOrEqual(11);
    expect(Math.max(...batches.map((x) => x.length))).toBeLessThanOrEqual(100);
    expect(batches.flat()).toEqual(values);
  });

  it("respects the byte budget and rejects an item larger than it", async () => {
    const { batches, send } = recorder();
    const b = new Batcher<number, number>({
      backend: "test",
      send,
      maxBatchSize: 100,
      maxBatchBytes: 10,
      sizeOf: (n) => n,
      lingerMs: 0,
      maxQueued: 100,
      timeoutMs: 5000,
    });
    await Promise.all([4, 4, 4, 4].map((n) => b.add(n)));
    expect(batches.map((x) => x.reduce((s, n) => s + n, 0)).every((sum) => sum <= 10)).toBe(true);
    await expect(b.add(11)).rejects.toMatchObject({ code: "EVENT_TOO_LARGE" });
  });

  it("with sizeAhead, measures the next batch while one is in flight, not in add()", async () => {
    const measured: number[] = [];
    const doneWhenMeasured: number[] = [];
    const batches: number[][] = [];
    let done = 0;
    const b = new Batcher<number, number>({
      backend: "test",
      send: async (items) => {
        batches.push(items);
        await new Promise((r) => setTimeout(r, 20));
        done++;
        return items.map((value) => ({ ok: true, value }));
      },
      maxBatchSize: 3,
      maxBatchBytes: 100,
      sizeOf: (n) => {
        measured.push(n);
        doneWhenMeasured.push(done);
        return n === 7 ? 1000 : 10;
      },
      sizeAhead: true,
      lingerMs: 0,
      maxQueued: 100,
      timeoutMs: 5000,
    });
    const adds = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => b.add(n));
    const settled = Promise.allSettled(adds);
    // Only the first batch, formed when the third add filled it, has been measured so far.
    expect(measured).toEqual([1, 2, 3]);
    const outcomes = await settled;
    // Batch 2 (4, 5, 6) was measured while batch 1 was in flight, not when batch 2 was formed.
    expect(measured.slice(0, 6)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(doneWhenMeasured.slice(3, 6)).toEqual([0, 0, 0]);
    expect(measured.filter((n) => n === 4)).toHaveLength(1); // measured once
    // The oversize item is rejected with the usual code and never sent; the others all are, in order.
    expect(outcomes[6]).toMatchObject({ status: "rejected", reason: { code: "EVENT_TOO_LARGE" } });
    expect(batches.flat()).toEqual([1, 2, 3, 4, 5, 6, 8]);
  });

  it("fails fast with QUEUE_FULL instead of growing without bound", async () => {
    const b = new Batcher<number, number>({
      backend: "test",
      send: () => new Promise(() => {}),
      maxBatchSize: 1,
      lingerMs: 0,
      maxQueued: 2,
      timeoutMs: 200,
    });
    const first = b.add(1); // goes in flight and never returns
    await new Promise((r) => setImmediate(r));
    const queued = [b.add(2), b.add(3)];
    await expect(b.add(4)).rejects.toMatchObject({ code: "QUEUE_FULL" });
    await expect(first).rejects.toMatchObject({ code: "PUBLISH_TIMEOUT", details: { sent: "unknown" } });
    for (const q of queued) await expect(q).rejects.toMatchObject({ code: "PUBLISH_TIMEOUT", details: { sent: false } });
  });

  it("reports per-item failures from a batch", async () => {
    const b = new Batcher<number, number>({
      backend: "test",
      send: async (items) => items.map((n) => (n % 2 ? { ok: false, error: new Error(`odd ${n}`) } : { ok: true, value: n })),
      maxBatchSize: 10,
      lingerMs: 0,
      maxQueued: 100,
      timeoutMs: 1000,
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => b.add(n)));
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled", "rejected", "fulfilled"]);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: "PUBLISH_FAILED", message: "[test] publish failed: odd 1" });
  });

  it("never puts one key in two in-flight batches", async () => {
    const inFlight = new Set<string>();
    const seen: string[] = [];
    let overlap = false;
    const b = new Batcher<{ key: string; n: number }, number>({
      backend: "test",
      maxBatchSize: 7,
      maxInFlight: 4,
      orderKey: (item) => item.key,
      lingerMs: 0,
      maxQueued: 10_000,
      timeoutMs: 5000,
      send: async (items) => {
        const keys = new Set(items.map((i) => i.key));
        for (const k of keys) if (inFlight.has(k)) overlap = true;
        for (const k of keys) inFlight.add(k);
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        for (const i of items) seen.push(`${i.key}:${i.n}`);
        for (const k of keys) inFlight.delete(k);
        return items.map((i) => ({ ok: true, value: i.n }));
      },
    });
    await Promise.all(Array.from({ length: 500 }, (_, n) => b.add({ key: `k${n % 5}`, n })));
    expect(overlap).toBe(false);
    for (let k = 0; k < 5; k++) {
      const ns = seen.filter((s) => s.startsWith(`k${k}:`)).map((s) => Number(s.split(":")[1]));
      expect(ns).toEqual([...ns].sort((a, z) => a - z));
    }
  });

  it("with oneItemPerKey, a batch carries one item of each key and a key's next item waits for the last to settle", async () => {
    const batches: string[][] = [];
    const settledBeforeSent: boolean[] = [];
    const settled = new Set<string>();
    const b = new Batcher<{ key: string; n: number }, number>({
      backend: "test",
      maxBatchSize: 10,
      maxInFlight: 3,
      orderKey: (item) => item.key,
      oneItemPerKey: true,
      lingerMs: 0,
      maxQueued: 10_000,
      timeoutMs: 5000,
      send: async (items) => {
        batches.push(items.map((i) => i.key));
        for (const i of items) if (i.n >= 3) settledBeforeSent.push(settled.has(`${i.key}:${i.n - 3}`));
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        for (const i of items) settled.add(`${i.key}:${i.n}`);
        return items.map((i) => ({ ok: true, value: i.n }));
      },
    });
    await Promise.all(Array.from({ length: 60 }, (_, n) => b.add({ key: `k${n % 3}`, n })));
    for (const keys of batches) expect(new Set(keys).size).toBe(keys.length);
    expect(settledBeforeSent).toHaveLength(57);
    expect(settledBeforeSent.every(Boolean)).toBe(true);
  });

  it("flush waits for everything; close rejects later adds with PUBLISHER_CLOSED", async () => {
    const { send } = recorder(20);
    const b = new Batcher<number, number>({ backend: "test", send, maxBatchSize: 50, lingerMs: 1000, maxQueued: 100, timeoutMs: 5000 });
    let done = 0;
    for (let i = 0; i < 10; i++) void b.add(i).then(() => done++);
    await b.flush();
    expect(done).toBe(10);
    await b.close();
    await b.close();
    await expect(b.add(1)).rejects.toMatchObject({ code: "PUBLISHER_CLOSED" });
  });

  it("flush resolves once what was accepted before it settled, while adds keep coming", async () => {
    const { send } = recorder(5);
    const b = new Batcher<number, number>({ backend: "test", send, maxBatchSize: 10, lingerMs: 0, maxQueued: 10_000, timeoutMs: 5000 });
    const before = Array.from({ length: 25 }, (_, i) => b.add(i));
    let earlierSettled = 0;
    for (const p of before) void p.then(() => earlierSettled++);
    // A publisher that never pauses: every turn adds more, so the batcher is never idle.
    let publishing = true;
    const more: Promise<number>[] = [];
    const keepAdding = async () => {
      while (publishing) {
        more.push(b.add(1000 + more.length));
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const adding = keepAdding();
    const flushed = await Promise.race([
      b.flush().then(() => "flushed"),
      new Promise((r) => setTimeout(r, 2000, "still waiting after 2 s of continuous adds")),
    ]);
    publishing = false;
    await adding;
    expect(flushed).toBe("flushed");
    expect(earlierSettled).toBe(25);
    await Promise.all(more);
  });

  it("flush also waits for entries of a batch that are still in flight", async () => {
    let release: () => void = () => {};
    const b = new Batcher<number, number>({
      backend: "test",
      send: (items) =>
        new Promise((r) => {
          release = () => r(items.map((value) => ({ ok: true, value })));
        }),
      maxBatchSize: 10,
      lingerMs: 0,
      maxQueued: 100,
      timeoutMs: 5000,
    });
    void b.add(1);
    await new Promise((r) => setImmediate(r));
    let flushed = false;
    const flushing = b.flush().then(() => {
      flushed = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(flushed).toBe(false);
    release();
    await flushing;
    expect(flushed).toBe(true);
  });

  it("when an entry with an order key fails, later queued entries of that key are rejected, not sent ahead of it", async () => {
    const sent: string[] = [];
    let calls = 0;
    const b = new Batcher<{ key: string; n: number }, number>({
      backend: "test",
      maxBatchSize: 2,
      maxInFlight: 1,
      orderKey: (item) => item.key,
      lingerMs: 0,
      maxQueued: 100,
      timeoutMs: 5000,
      send: async (items) => {
        calls++;
        await new Promise((r) => setTimeout(r, 2));
        if (calls === 1) throw new Error("request 1 failed");
        for (const i of items) sent.push(`${i.key}:${i.n}`);
        return items.map((i) => ({ ok: true, value: i.n }));
      },
    });
    // Request 1 carries a:0 and b:1 and fails; a:2 and b:3 are still queued; c:4 has no failed predecessor.
    const items = [
      { key: "a", n: 0 },
      { key: "b", n: 1 },
      { key: "a", n: 2 },
      { key: "b", n: 3 },
      { key: "c", n: 4 },
    ];
    const results = await Promise.allSettled(items.map((i) => b.add(i)));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected", "rejected", "fulfilled"]);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({
      code: "PUBLISH_FAILED",
      details: { sent: false },
      message: expect.stringContaining("an earlier event of the same key failed"),
    });
    expect(sent).toEqual(["c:4"]);
  });

  it("when a queued entry with an order key times out, later queued entries of that key are not sent either", async () => {
    const sent: string[] = [];
    let releaseFirst: () => void = () => {};
    const b = new Batcher<{ key: string; n: number }, number>({
      backend: "test",
      maxBatchSize: 1,
      maxInFlight: 1,
      orderKey: (item) => item.key,
      lingerMs: 0,
      maxQueued: 100,
      timeoutMs: 100,
      send: async (items) => {
        if (items[0]?.n === 0) await new Promise<void>((r) => (releaseFirst = r));
        for (const i of items) sent.push(`${i.key}:${i.n}`);
        return items.map((i) => ({ ok: true, value: i.n }));
      },
    });
    const first = b.add({ key: "x", n: 0 });
    await new Promise((r) => setImmediate(r));
    const a1 = b.add({ key: "a", n: 1 });
    await new Promise((r) => setTimeout(r, 40));
    const a2 = b.add({ key: "a", n: 2 }); // added later: its own deadline is 40 ms after a:1's
    const r1 = Promise.allSettled([first, a1]);
    await r1;
    releaseFirst();
    const [out2] = await Promise.allSettled([a2]);
    expect(out2?.status).toBe("rejected");
    expect(sent).not.toContain("a:2");
  });

  it("addAll takes a batch larger than maxQueued and works through it as room frees", async () => {
    const { batches, send } = recorder(2);
    const b = new Batcher<number, number>({ backend: "test", send, maxBatchSize: 10, lingerMs: 0, maxQueued: 25, timeoutMs: 5000 });
    const outcomes = await b.addAll(Array.from({ length: 100 }, (_, i) => i));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(batches.flat()).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(b.pending).toBe(0);
  });

  it("addAll keeps the queue bound: with no room at all it settles every item with QUEUE_FULL", async () => {
    const b = new Batcher<number, number>({
      backend: "test",
      send: () => new Promise(() => {}),
      maxBatchSize: 1,
      lingerMs: 0,
      maxQueued: 2,
      timeoutMs: 100,
    });
    const held = [b.add(1)];
    await new Promise((r) => setImmediate(r));
    held.push(b.add(2), b.add(3)); // the queue is full now
    const outcomes = await b.addAll([4, 5, 6]);
    expect(outcomes).toEqual(
      [4, 5, 6].map(() => ({
        ok: false,
        error: expect.objectContaining({ code: "QUEUE_FULL", details: expect.objectContaining({ sent: false }) }),
      })),
    );
    await Promise.allSettled(held);
  });

  it("addAll: what waits for room and is never queued settles by its deadline with PUBLISH_TIMEOUT (not sent)", async () => {
    const b = new Batcher<number, number>({
      backend: "test",
      send: () => new Promise(() => {}),
      maxBatchSize: 1,
      lingerMs: 0,
      maxQueued: 2,
      timeoutMs: 100,
    });
    const outcomes = await b.addAll([1, 2, 3, 4, 5]);
    expect(outcomes.map((o) => (o.ok ? "ok" : (o.error as { code: string }).code))).toEqual(Array(5).fill("PUBLISH_TIMEOUT"));
    expect((outcomes[4] as { error: { details: unknown } }).error.details).toEqual({ sent: false });
  });

  it("every add settles by its deadline (plus one sweep period), queued, waiting for room or in flight — on a fake clock", async () => {
    vi.useFakeTimers();
    try {
      const timeoutMs = 1_000;
      const b = new Batcher<number, number>({
        backend: "test",
        send: () => new Promise(() => {}), // a broker that never answers
        maxBatchSize: 2,
        maxInFlight: 1,
        lingerMs: 0,
        maxQueued: 4,
        timeoutMs,
      });
      const settledAt = new Map<number, number>();
      const start = Date.now();
      const track = (n: number, p: Promise<unknown>) =>
        void p.then(
          () => settledAt.set(n, Date.now() - start),
          () => settledAt.set(n, Date.now() - start),
        );
      for (let n = 0; n < 4; n++) track(n, b.add(n)); // 2 go in flight, 2 stay queued
      await vi.advanceTimersByTimeAsync(1);
      track(
        99,
        b.addAll([10, 11, 12, 13]).then(() => undefined),
      ); // 2 more queued, 2 waiting for room
      // The sweep runs every timeoutMs / 10 (at most 250 ms): nothing may be later than that.
      const sweep = Math.max(5, Math.min(250, Math.floor(timeoutMs / 10)));
      await vi.advanceTimersByTimeAsync(timeoutMs + sweep + 1);
      expect([...settledAt.keys()].sort((a, z) => a - z)).toEqual([0, 1, 2, 3, 99]);
      for (const at of settledAt.values()) expect(at).toBeLessThanOrEqual(timeoutMs + sweep + 1);
      for (const at of settledAt.values()) expect(at).toBeGreaterThanOrEqual(timeoutMs);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("Batcher.addSettled", () => {
  it("settles each entry with mapValue / mapError, beside plain add() entries of the same batches", async () => {
    const b = new Batcher<number, number>({
      backend: "test",
      send: async (items) => items.map((n) => (n % 3 === 0 ? { ok: false, error: new Error(`no ${n}`) } : { ok: true, value: n * 10 })),
      maxBatchSize: 4,
      lingerMs: 0,
      maxQueued: 100,
      timeoutMs: 5000,
      mapValue: (item, value) => ({ item, value }),
      mapError: (item, error) => new Error(`item ${item}: ${(error as Error).message}`),
    });
    const mapped = [1, 2, 3].map((n) => b.addSettled<{ item: number; value: number }>(n));
    const plain = [4, 6].map((n) => b.add(n));
    await expect(mapped[0]).resolves.toEqual({ item: 1, value: 10 });
    await expect(mapped[1]).resolves.toEqual({ item: 2, value: 20 });
    await expect(mapped[2]).rejects.toThrow("item 3: [test] publish failed: no 3");
    await expect(plain[0]).resolves.toBe(40);
    await expect(plain[1]).rejects.toMatchObject({ code: "PUBLISH_FAILED", message: "[test] publish failed: no 6" });
  });

  it("maps the refusals too: closed, QUEUE_FULL, too large, a throwing sizeOf, and the deadline", async () => {
    vi.useFakeTimers();
    try {
      const b = new Batcher<number, number>({
        backend: "test",
        send: () => new Promise(() => {}), // never answers: the first batch stays in flight
        maxBatchSize: 1,
        maxBatchBytes: 10,
        sizeOf: (n) => {
          if (n === 99) throw new Error("cannot measure");
          return n;
        },
        lingerMs: 0,
        maxQueued: 2,
        timeoutMs: 1000,
        mapError: (item, error) => ({ item, code: (error as { code?: string }).code ?? (error as Error).message }),
      });
      const inFlight = b.addSettled(1);
      await vi.advanceTimersByTimeAsync(1);
      const queued = [b.addSettled(2), b.addSettled(3)];
      const results = await Promise.allSettled([b.addSettled(4), b.addSettled(11), b.addSettled(99)]);
      expect(results.map((r) => (r as PromiseRejectedResult).reason)).toEqual([
        { item: 4, code: "QUEUE_FULL" },
        { item: 11, code: "QUEUE_FULL" },
        { item: 99, code: "QUEUE_FULL" },
      ]);
      const all = Promise.allSettled([inFlight, ...queued]);
      await vi.advanceTimersByTimeAsync(1500);
      expect((await all).map((r) => (r as PromiseRejectedResult).reason)).toEqual([
        { item: 1, code: "PUBLISH_TIMEOUT" },
        { item: 2, code: "PUBLISH_TIMEOUT" },
        { item: 3, code: "PUBLISH_TIMEOUT" },
      ]);
      const refused = await Promise.allSettled([b.addSettled(11), b.addSettled(99)]);
      expect(refused.map((r) => (r as PromiseRejectedResult).reason)).toEqual([
        { item: 11, code: "EVENT_TOO_LARGE" },
        { item: 99, code: "cannot measure" },
      ]);
      void b.close();
      await expect(b.addSettled(5)).rejects.toEqual({ item: 5, code: "PUBLISHER_CLOSED" });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("Batcher: failures without a reason, and a mapper that throws", () => {
  const make = (send: (items: number[]) => Promise<ItemOutcome<number>[]>) =>
    new Batcher<number, number>({
      backend: "test",
      send,
      maxBatchSize: 10,
      lingerMs: 0,
      maxQueued: 100,
      timeoutMs: 5000,
      mapValue: (item, value) => {
        if (item === 13) throw new TypeError("cannot read this value");
        return { item, value };
      },
      mapError: (item, error) => ({ item, error }),
    });

  it("a send rejected with no reason fails every entry of the batch (PUBLISH_FAILED), settled and mapped, nothing unhandled", async () => {
    const b = make(() => Promise.reject(undefined));
    const plain = b.add(1);
    const mapped = b.addSettled<unknown>(2);
    await expect(plain).rejects.toMatchObject({ code: "PUBLISH_FAILED", message: "[test] publish failed: undefined" });
    await expect(mapped).rejects.toMatchObject({ item: 2, error: { code: "PUBLISH_FAILED" } });
  });

  it("an outcome { ok: false } with no error fails its entry, not resolves it", async () => {
    const b = make(async (items) => items.map((n) => (n === 2 ? { ok: false, error: undefined } : { ok: true, value: n })));
    const results = await Promise.allSettled([b.addSettled(1), b.addSettled(2), b.add(2)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ item: 2, error: { code: "PUBLISH_FAILED" } });
  });

  it("a mapValue that throws fails that entry alone; the rest of the batch resolves", async () => {
    const b = make(async (items) => items.map((n) => ({ ok: true, value: n })));
    const results = await Promise.allSettled([12, 13, 14].map((n) => b.addSettled(n)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      item: 13,
      error: { code: "PUBLISH_FAILED", message: "[test] publish failed: cannot read this value" },
    });
  });
});
