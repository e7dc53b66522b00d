// Writes schemas/<topic>.json (JSON Schema of the envelope, data included) from the zod schemas.
// `--check` fails when the checked-in files differ: the drift test runs the same comparison.
import { writeFileSync } from "node:fs";
import { jsonSchemas } from "./json-schemas.mjs";

for (const [topic, text] of Object.entries(await jsonSchemas())) {
  writeFileSync(new URL(`../schemas/${topic}.json`, import.meta.url), text);
  console.log(`wrote schemas/${topic}.json`);
}
