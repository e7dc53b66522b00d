import { describe, expect, it } from "vitest";
import { uuidv7, uuidv7Time } from "../../src/index.js";

describe("uuidv7", () => {
  it("is an RFC 9562 version 7 UUID carrying the creation time", () => {
    const now = Date.now();
    const id = uuidv7(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidv7Time(id)).toBe(now);
  });

  it("sorts in creation order, also within one millisecond, and never repeats", () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("stays ordered when the clock steps back", () => {
    const a = uuidv7(Date.now() + 10_000);
    const b = uuidv7(Date.now());
    expect(b > a).toBe(true);
  });
});
