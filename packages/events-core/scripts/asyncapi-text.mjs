// The text of asyncapi/kaireon-events.asyncapi.json, from the built package: the generator writes
// it and the drift test compares the checked-in file with it. Laid out as the repository's
// formatter (Biome, line width 140) lays out JSON, so `pnpm lint` accepts the generated file as is:
// objects one key a line, an array of plain values on one line when it fits.
const WIDTH = 140;

function layout(value, indent, prefix) {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every((v) => v === null || typeof v !== "object")) {
      const flat = `[${value.map((v) => JSON.stringify(v)).join(", ")}]`;
      if (indent.length + prefix.length + flat.length + 1 <= WIDTH) return flat;
    }
    const inner = `${indent}  `;
    return `[\n${value.map((v) => `${inner}${layout(v, inner, "")}`).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 0) return "{}";
    const inner = `${indent}  `;
    const lines = keys.map((k) => {
      const key = `${JSON.stringify(k)}: `;
      return `${inner}${key}${layout(value[k], inner, key)}`;
    });
    return `{\n${lines.join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}

export function asyncApiJson(document) {
  return `${layout(document, "", "")}\n`;
}

export async function asyncApiText() {
  const { asyncApiDocument } = await import("../dist/index.js");
  return asyncApiJson(asyncApiDocument());
}
