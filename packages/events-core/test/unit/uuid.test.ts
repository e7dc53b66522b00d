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

  // Last: it moves this module's clock far ahead (later ids of this file would take its millisecond).
  it("writes the 48-bit millisecond field exactly, to its highest value", () => {
    for (const ms of [Date.now() + 20_000, 2 ** 41 + 0x1234, 2 ** 44 + 7, 2 ** 47 + 0xabcdef, 2 ** 48 - 1]) {
      const id = uuidv7(ms);
      const hex = ms.toString(16).padStart(12, "0");
      expect(id.slice(0, 14)).toBe(`${hex.slice(0, 8)}-${hex.slice(8)}-`);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(uuidv7Time(id)).toBe(ms);
    }
  });
});
