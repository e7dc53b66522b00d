import { ConfigError, PublishError } from "@kaireon/events-core";
import { describe, expect, it } from "vitest";
import { configErrorOf, recordingLogger, silentLogger, uniqueName } from "../../src/index.js";

describe("test helpers", () => {
  it("uniqueName: the prefix and separator, never the same twice", () => {
    const names = Array.from({ length: 1000 }, () => uniqueName("test:x", ":"));
    expect(new Set(names).size).toBe(1000);
    expect(names[0]).toMatch(/^test:x:[0-9a-z]+:[0-9a-z]+:[0-9a-z]+$/);
  });

  it("recordingLogger keeps every line; messages() filters by level (warn and error by default)", () => {
    const logger = recordingLogger();
    logger.info("i");
    logger.warn("w", { a: 1 });
    logger.error("e");
    expect(logger.messages()).toEqual(["w", "e"]);
    expect(logger.messages("info")).toEqual(["i"]);
    expect(logger.lines[1]).toEqual({ level: "warn", message: "w", fields: { a: 1 } });
    expect(() => silentLogger.error("nothing printed")).not.toThrow();
  });

  it("configErrorOf returns the ConfigError, and fails on none or another error", () => {
    const error = configErrorOf(() => {
      throw new ConfigError({ message: "[x] X_URL: is required" });
    });
    expect(error.message).toContain("X_URL");
    expect(() => configErrorOf(() => 1)).toThrow(/expected a ConfigError/);
    expect(() =>
      configErrorOf(() => {
        throw new PublishError({ message: "m" });
      }),
    ).toThrow("m");
  });
});
