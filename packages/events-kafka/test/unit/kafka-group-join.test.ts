// The one join waiter both client seams use (kafka-group-join.ts): each settles it from its own
// events (kafkajs GROUP_JOIN/CRASH, @platformatic/kafka's stream), so its rules are checked once here.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { groupJoin } from "../../src/kafka-group-join.js";

describe("groupJoin", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("resolves every wait at the join, and later waits at once", async () => {
    const join = groupJoin("g");
    const a = join.waitUntilJoined(1000);
    const b = join.waitUntilJoined(1000);
    join.joined();
    await expect(Promise.all([a, b])).resolves.toEqual([undefined, undefined]);
    await expect(join.waitUntilJoined(1)).resolves.toBeUndefined();
  });

  it("rejects a wait with the crash's error before the join", async () => {
    const join = groupJoin("g");
    const wait = join.waitUntilJoined(1000);
    const crash = new Error("SASL refused");
    join.failed(crash);
    await expect(wait).rejects.toBe(crash);
  });

  it("rejects at its bound, naming the group", async () => {
    const join = groupJoin("orders");
    const wait = join.waitUntilJoined(30_000);
    const settled = expect(wait).rejects.toThrow("consumer group orders did not join within 30000 ms");
    await vi.advanceTimersByTimeAsync(30_000);
    await settled;
    join.joined(); // late: the wait is settled already, nothing throws
  });

  it("rejects when its signal aborts, and at once for an aborted signal", async () => {
    const join = groupJoin("g");
    const controller = new AbortController();
    const wait = join.waitUntilJoined(30_000, controller.signal);
    controller.abort();
    await expect(wait).rejects.toThrow("closed before it joined");
    await expect(join.waitUntilJoined(30_000, controller.signal)).rejects.toThrow("closed before it joined");
    expect(vi.getTimerCount()).toBe(0);
  });
});
