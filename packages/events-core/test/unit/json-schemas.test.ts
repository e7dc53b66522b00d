import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain .mjs helper shared with the generator script
import { jsonSchemas } from "../../scripts/json-schemas.mjs";

describe("checked-in JSON Schemas", () => {
  it("match the zod schemas (run `pnpm --filter @kaireon/events-core gen:schemas` after changing a schema)", async () => {
    const expected: Record<string, string> = await jsonSchemas();
    expect(Object.keys(expected).sort()).toEqual(["decision.made.v1", "interaction.recorded.v1"]);
    for (const [topic, text] of Object.entries(expected)) {
      expect(readFileSync(new URL(`../../schemas/${topic}.json`, import.meta.url), "utf8"), `schemas/${topic}.json is stale`).toBe(text);
    }
  });
});
