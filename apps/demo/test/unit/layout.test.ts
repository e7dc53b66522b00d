// The demo's path stays straight (README: "One publish, route to wire"): each store stands alone,
// the persistence port knows no HTTP, nothing but the outbox package touches the outbox's tables,
// and request bodies take their field rules from core's topic schemas instead of restating them.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const src = join(import.meta.dirname, "../../src");
const read = (file: string) => readFileSync(join(src, file), "utf8");
const imports = (file: string) => [...read(file).matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]);

describe("demo layout", () => {
  it("one store does not import the other; the port imports no HTTP body or framework", () => {
    expect(imports("postgres-store.ts")).not.toContain("./sqlite-store.js");
    expect(imports("sqlite-store.ts")).not.toContain("./postgres-store.js");
    expect(imports("store.ts").filter((m) => /schemas|app|hono/.test(m ?? ""))).toEqual([]);
  });

  it("no demo source queries the outbox's own tables (it asks OutboxStore.stats())", () => {
    for (const file of readdirSync(src)) {
      expect(read(file), file).not.toMatch(/(FROM|INTO|UPDATE)\s+(\$\{OUTBOX_TABLE\}|kaireon_outbox)/i);
    }
  });

  it("HTTP bodies derive from the topic schemas instead of re-declaring their rules", () => {
    const schemas = read("schemas.ts");
    expect(schemas).toMatch(/interactionRecordedV1Schema\.extend/);
    expect(schemas).toMatch(/decisionMadeV1Schema\.pick/);
    expect(schemas).not.toMatch(/max\(256\)|z\.enum\(interactionTypes\)/);
  });
});
