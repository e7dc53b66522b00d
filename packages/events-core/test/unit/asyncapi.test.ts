import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain .mjs helper shared with the generator script
import { asyncApiText } from "../../scripts/asyncapi-text.mjs";
import { asyncApiDocument, asyncApiId, topicJsonSchemaDraft07, topicNames } from "../../src/index.js";

const checkedIn = () => readFileSync(new URL("../../asyncapi/kaireon-events.asyncapi.json", import.meta.url), "utf8");

// @asyncapi/parser severities: 0 error, 1 warning, 2 information, 3 hint.
async function problems(document: unknown) {
  const { diagnostics } = await new Parser().parse(JSON.stringify(document));
  return diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code} at ${d.path.join(".")}: ${d.message}`);
}

describe("AsyncAPI document", () => {
  it("is checked in as generated (run `pnpm --filter @kaireon/events-core build && pnpm --filter @kaireon/events-core gen:asyncapi` after changing a schema)", async () => {
    expect(checkedIn(), "asyncapi/kaireon-events.asyncapi.json is stale").toBe(await asyncApiText());
  });

  it("parses with no error and no warning in @asyncapi/parser", async () => {
    expect(await problems(JSON.parse(checkedIn()))).toEqual([]);
  });

  it("the parser check can fail: a message pointing at a missing schema is an error", async () => {
    const broken = asyncApiDocument();
    (broken.components.schemas as Record<string, unknown>)[asyncApiId("decision.made.v1")] = undefined;
    const found = await problems(JSON.parse(JSON.stringify(broken)));
    expect(found.length).toBeGreaterThan(0);
  });

  it("has one channel per topic, its message the envelope's draft-07 schema, Kafka key = partitionkey", () => {
    const doc = asyncApiDocument();
    expect(Object.keys(doc.channels).sort()).toEqual(topicNames.map(asyncApiId).sort());
    for (const topic of topicNames) {
      const id = asyncApiId(topic);
      const channel = doc.channels[id] as { address: string; "x-kaireon-addressing": Record<string, Record<string, unknown>> };
      expect(channel.address).toBe(topic);
      expect(channel["x-kaireon-addressing"].eventbridge?.["detail-type"]).toBe(topic);
      expect(channel["x-kaireon-addressing"].kinesis?.partitionKey).toMatch(/^partitionkey/);
      const message = (doc.components.messages as Record<string, { payload: unknown; bindings: { kafka: { key: unknown } } }>)[id];
      expect(message?.payload).toEqual({
        schemaFormat: "application/schema+json;version=draft-07",
        schema: { $ref: `#/components/schemas/${id}` },
      });
      expect(message?.bindings.kafka.key).toMatchObject({ type: "string" });
      const schema = (doc.components.schemas as Record<string, Record<string, unknown>>)[id];
      expect(schema).toEqual(topicJsonSchemaDraft07(topic));
      expect(schema?.$schema).toBe("http://json-schema.org/draft-07/schema#");
      expect((schema?.properties as Record<string, { const?: string }> | undefined)?.type?.const).toBe(topic);
    }
    expect(Object.keys(doc.servers).sort()).toEqual(["eventbridge", "kafka", "kinesis", "msk", "redis"]);
  });

  it("stamps info.version when asked", () => {
    expect(asyncApiDocument({ version: "0.3.1" }).info.version).toBe("0.3.1");
  });
});
