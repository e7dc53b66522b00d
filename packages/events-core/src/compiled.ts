// The publish hot path, compiled once per topic from the topic's JSON Schema (the schema that is
// generated from the zod schema and drift-tested, so the two cannot part): a validator that checks
// a payload field by field and copies it in schema order, and a serializer that writes that fixed
// shape without JSON.stringify's generic walk. zod stays the source of truth: when the compiled
// check says no, zod runs to build the error (messages stay exactly zod's), and when the two ever
// disagree zod's answer wins (envelope.ts). Together about a third of zod + JSON.stringify here.
//
// Only the JSON Schema keywords the topic schemas use are understood; a schema with any other keyword
// is not compiled (compileObject returns undefined) and that topic simply keeps the zod path. Not ajv:
// it would be a runtime dependency of every application for two flat objects, and its standalone
// output still imports ajv's runtime helpers.

import { z } from "zod";

/** Checks and copies a payload (schema order); undefined when it is not valid. */
type Copier = (input: unknown) => Record<string, unknown> | undefined;
/**
 * JSON text of a payload produced by the copier: one concatenation (a V8 rope, not yet flat — the
 * envelope flattens its whole text once, see trusted.ts).
 */
type Writer = (data: Record<string, unknown>) => string;

/**
 * What the last write() found, set as its very last step (after every read of the payload and every
 * piece of its text, so nothing a getter or a toString runs meanwhile can overwrite it): `plain` when
 * none of the payload's scanned strings needed escaping, and then the `tenantId` and `customerId`
 * strings it scanned (undefined for a topic without them, or whose field is never scanned). The
 * envelope's subject, tenantid and partitionkey, copies of those two, need no second scan when they
 * equal them. Read at once after the write() call it describes.
 */
export const lastWrite: { plain: boolean; tenantId: unknown; customerId: unknown } = {
  plain: false,
  tenantId: undefined,
  customerId: undefined,
};

export interface CompiledTopic {
  copy: Copier;
  write: Writer;
}

type Schema = Record<string, unknown>;

const KNOWN = new Set(["type", "minLength", "maxLength", "pattern", "format", "enum", "const", "minimum", "maximum", "anyOf"]);

/**
 * A JS expression true when `v` fits `schema`; undefined for a schema this compiler does not know.
 * `typeOnly`: only the JSON type and, for an enum or a const, the value — no lengths, bounds or
 * pattern (what the writer re-checks cheaply, see compileObject).
 */
function condition(schema: Schema, v: string, patterns: RegExp[], typeOnly = false): string | undefined {
  if (Object.keys(schema).some((k) => !KNOWN.has(k))) return undefined;
  if (Array.isArray(schema.anyOf)) {
    if (Object.keys(schema).length !== 1) return undefined;
    const parts = (schema.anyOf as Schema[]).map((o) => condition(o, v, patterns, typeOnly));
    return parts.some((p) => p === undefined) ? undefined : `(${parts.join(" || ")})`;
  }
  const num = (key: string) =>
    !typeOnly && typeof schema[key] === "number" && Number.isFinite(schema[key]) ? (schema[key] as number) : undefined;
  switch (schema.type) {
    case "null":
      return `${v} === null`;
    case "string": {
      // Lengths in code points, as JSON Schema and zod count them; the exact count only when the
      // number of UTF-16 units leaves it in doubt (a code point is one or two units).
      const parts = [`typeof ${v} === "string"`];
      const min = num("minLength");
      const max = num("maxLength");
      if (min !== undefined) parts.push(`${v}.length >= ${min} && (${v}.length >= ${2 * min} || cp(${v}) >= ${min})`);
      if (max !== undefined) parts.push(`(${v}.length <= ${max} || cp(${v}) <= ${max})`);
      if (schema.const !== undefined) parts.push(`${v} === ${JSON.stringify(String(schema.const))}`);
      if (Array.isArray(schema.enum)) parts.push(`(${schema.enum.map((e) => `${v} === ${JSON.stringify(String(e))}`).join(" || ")})`);
      if (!typeOnly && typeof schema.pattern === "string") {
        patterns.push(new RegExp(schema.pattern));
        parts.push(`p[${patterns.length - 1}].test(${v})`);
      }
      return `(${parts.join(" && ")})`;
    }
    case "integer":
    case "number": {
      const parts = [`typeof ${v} === "number"`, schema.type === "integer" ? `Number.isSafeInteger(${v})` : `Number.isFinite(${v})`];
      if (num("minimum") !== undefined) parts.push(`${v} >= ${num("minimum")}`);
      if (num("maximum") !== undefined) parts.push(`${v} <= ${num("maximum")}`);
      return `(${parts.join(" && ")})`;
    }
    default:
      return undefined;
  }
}

/** The property's JSON types: whether it can be a string, whether it can be null. */
function kinds(schema: Schema): { string: boolean; nullable: boolean } {
  const types = Array.isArray(schema.anyOf) ? (schema.anyOf as Schema[]).map((o) => o.type) : [schema.type];
  return { string: types.includes("string"), nullable: types.includes("null") };
}

/**
 * A string the schema lets through can never need escaping: an enum or const of plain values, or an
 * RFC 3339 date-time checked by its pattern (digits, "-", ":", "T", ".", "Z", "+" only). Those are
 * not scanned at all (a timestamp is the longest field of most payloads).
 */
function alwaysPlain(schema: Schema): boolean {
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).every((o) => o.type === "null" || alwaysPlain(o));
  if (schema.type !== "string") return true;
  if (schema.const !== undefined) return !needsEscape(String(schema.const));
  if (Array.isArray(schema.enum)) return schema.enum.every((e) => !needsEscape(String(e)));
  return schema.format === "date-time" && typeof schema.pattern === "string";
}

/**
 * The pieces writing `name` and `v` (already checked against `schema`) as JSON, after `prefix`
 * (`{` or `,`): literal text is merged into its neighbours, so the whole payload is one short list
 * of pieces. `clean`: no string needs escaping.
 */
function pieces(prefix: string, name: string, schema: Schema, v: string, clean: boolean): { head: string; value: string; tail: string } {
  const { string, nullable } = kinds(schema);
  const key = `${prefix}${JSON.stringify(name)}:`;
  if (string && clean && !nullable) return { head: `${key}"`, value: v, tail: '"' };
  const text = string ? (clean ? `'"' + ${v} + '"'` : `q(${v})`) : `String(${v})`;
  return { head: key, value: nullable ? `(${v} === null ? "null" : ${text})` : text, tail: "" };
}

/** Code points in `s`: UTF-16 units less one per well-formed surrogate pair. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n--;
      i++;
    }
  }
  return n;
}

/**
 * Whether JSON.stringify would write `s` other than as `"` + s + `"`: a quote, a backslash, a control
 * character or a surrogate (a lone one becomes a \\u escape; a pair is sent the careful way too).
 * A charCode loop: on these short strings about half the cost of a regular expression test.
 */
export function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c & 0xf800) === 0xd800) return true;
  }
  return false;
}

/**
 * Compiles a strict object schema whose properties are all required into two generated functions
 * (one straight-line check + object literal, one string concatenation); undefined when it cannot —
 * a schema with other keywords, or a runtime that forbids `new Function` (then zod does the work).
 */
export function compileObject(schema: Schema): CompiledTopic | undefined {
  if (schema.type !== "object" || schema.additionalProperties !== false) return undefined;
  const properties = schema.properties as Record<string, Schema> | undefined;
  if (!properties) return undefined;
  const names = Object.keys(properties);
  const required = new Set((schema.required as string[] | undefined) ?? []);
  if (names.length === 0 || names.some((n) => !required.has(n)) || required.size !== names.length) return undefined;
  const patterns: RegExp[] = [];
  const checks: string[] = [];
  for (const [i, name] of names.entries()) {
    const test = condition(properties[name] as Schema, `v${i}`, patterns);
    if (test === undefined) return undefined;
    checks.push(`const v${i} = s[${JSON.stringify(name)}]; if (!${test}) return undefined;`);
  }
  const copyBody = `
    if (typeof s !== "object" || s === null || Array.isArray(s)) return undefined;
    ${checks.join("\n    ")}
    let n = 0;
    // Every enumerable key, inherited ones too: zod's strict check looks at them all.
    for (const k in s) {
      switch (k) { ${names.map((n) => `case ${JSON.stringify(n)}:`).join(" ")} n++; break; default: return undefined; }
    }
    if (n !== ${names.length}) return undefined;
    return { ${names.map((n, i) => `${JSON.stringify(n)}: v${i}`).join(", ")} };`;
  // Most payloads have nothing to escape: all the strings are tested first, then quoted plainly;
  // JSON.stringify per string only when one of them does need escaping. Each field remembers the last
  // string it found plain: a tenant, a flow key or an offer id repeats from one event to the next, and
  // the same string (or an equal one) needs no second scan.
  const scannedAt = new Set<number>();
  /** The field's value when write() scans it for escapes (a string field, not always plain), else undefined. */
  const scanned = (name: string) => {
    const i = names.indexOf(name);
    return i >= 0 && scannedAt.has(i) ? `v${i}` : "undefined";
  };
  const strings = names.flatMap((n, i) => {
    const k = kinds(properties[n] as Schema);
    if (!k.string || alwaysPlain(properties[n] as Schema)) return [];
    scannedAt.add(i);
    const test = `(v${i} !== m${i} && (e(v${i}) || ((m${i} = v${i}), false)))`;
    return [k.nullable ? `(v${i} !== null && ${test})` : test];
  });
  // Each field still of its JSON type (and enum or const value) when written: a payload changed after
  // creation (a number replaced by a string, an enum by any text) is written by JSON.stringify instead
  // of being quoted, or not quoted, wrongly. A date-time is only checked to be a string (its pattern
  // would cost more than the rest of the write).
  const shapes = names.map((n, i) => condition(properties[n] as Schema, `v${i}`, [], true) as string);
  // One concatenation of the payload's pieces, literal text merged: ~2 pieces per field.
  const text = (clean: boolean) => {
    const out: string[] = [];
    let literal = "";
    names.forEach((n, i) => {
      const { head, value, tail } = pieces(i === 0 ? "{" : ",", n, properties[n] as Schema, `v${i}`, clean);
      out.push(JSON.stringify(literal + head), value);
      literal = tail;
    });
    out.push(JSON.stringify(`${literal}}`));
    return out.join(" + ");
  };
  const writeBody = `
    ${names.map((n, i) => `const v${i} = d[${JSON.stringify(n)}];`).join(" ")}
    if (!(${shapes.join(" && ")})) { o.plain = false; return q(d); }
    ${strings.length === 0 ? "" : `if (${strings.join(" || ")}) { const t = ${text(false)}; o.plain = false; return t; }`}
    const t = ${text(true)};
    o.plain = true; o.tenantId = ${scanned("tenantId")}; o.customerId = ${scanned("customerId")};
    return t;`;
  try {
    const copy = new Function("p", "cp", `return function copy(s) {${copyBody}\n};`)(patterns, codePoints) as Copier;
    const write = new Function(
      "e",
      "q",
      "o",
      `${scannedAt.size === 0 ? "" : `let ${[...scannedAt].map((i) => `m${i} = ""`).join(", ")};`} return function write(d) {${writeBody}\n};`,
    )(needsEscape, JSON.stringify, lastWrite) as Writer;
    return { copy, write };
  } catch {
    return undefined; // code generation is not allowed here (a CSP): the zod path serves
  }
}

/** The compiled form of a zod object schema, made on first use (no work at import). */
export function lazyCompiled(schema: z.ZodType): () => CompiledTopic | undefined {
  let compiled: CompiledTopic | undefined | null = null;
  return () => {
    if (compiled === null) {
      try {
        compiled = compileObject(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Schema);
      } catch {
        compiled = undefined;
      }
    }
    return compiled;
  };
}
