// backendOptions: one schema gives the options from the environment and from code, the defaults once.

import { describe, expect, it } from "vitest";
import { z } from "zod";
import { backendOptions, ConfigError, envInt, envString } from "../../src/kit.js";

const schema = z
  .object({ X_HOST: envString(), X_TIMEOUT_MS: envInt(5_000, 1, 60_000), X_RETRIES: envInt(3, 0, 10) })
  .superRefine((env, ctx) => {
    if (env.X_HOST === undefined) ctx.addIssue({ code: "custom", path: ["X_HOST"], message: "is required — set it" });
  })
  .transform((env) => ({ host: env.X_HOST as string, timeoutMs: env.X_TIMEOUT_MS, retries: env.X_RETRIES }));
const x = backendOptions("x", schema);

describe("backendOptions", () => {
  it("fromEnv parses the variables; a bad one is a ConfigError naming it", () => {
    expect(x.fromEnv({ X_HOST: "h", X_RETRIES: "1" })).toEqual({ host: "h", timeoutMs: 5_000, retries: 1 });
    expect(() => x.fromEnv({ X_HOST: "h", X_TIMEOUT_MS: "0" })).toThrow(ConfigError);
    expect(() => x.fromEnv({})).toThrow(/X_HOST: is required/);
  });

  it("fromCode takes the schema's defaults and lays the defined options over them", () => {
    expect(x.fromCode({ retries: 0, timeoutMs: undefined }, { X_HOST: "h" })).toEqual({ host: "h", timeoutMs: 5_000, retries: 0 });
    expect(x.fromCode({ host: "given" }, { X_HOST: "h" }).host).toBe("given");
    expect(() => x.fromCode({ host: "h" })).toThrow(/X_HOST/);
  });
});
