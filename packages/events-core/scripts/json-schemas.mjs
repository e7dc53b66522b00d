// The JSON Schema text of each topic's envelope, derived from the built zod schemas.
import { z } from "zod";

export async function jsonSchemas() {
  const { eventSchemas } = await import("../dist/index.js");
  const out = {};
  for (const [topic, schema] of Object.entries(eventSchemas)) {
    const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
    json.$id = `https://kaireon.dev/schemas/${topic}.json`;
    json.title = topic;
    out[topic] = `${JSON.stringify(json, null, 2)}\n`;
  }
  return out;
}
