// Classifies the change between two JSON Schemas of one topic (the last release's and today's), for
// the release gate check-topic-compat.mjs. Pure functions, no I/O, so every rule has a fixture test
// (packages/events-core/test/unit/topic-compat.test.ts).
//
// The rule: every event valid under the released schema must stay valid under the new one. Events
// already in a replayable log (Kafka, Kinesis, Redis Streams, an outbox) and publishers still on an
// older release produce exactly those, and a release must not make them invalid. So a change that
// narrows what is accepted is breaking; one that widens it is compatible, and consumers upgrade core
// first (their parseEvent must know the widened schema before a producer uses it). Two exceptions
// are stricter than "valid stays valid", because topics promise consumers one shape: a field removed
// (or renamed) and a required field made optional are breaking too. A new enum value is compatible
// (see the README's "Evolving a topic": consumers keep a default branch), but it is reported as its
// own kind so the changelog names it.
//
// Only the keywords zod's toJSONSchema writes are understood. Any other keyword that changes is
// reported as breaking ("cannot prove compatible"): the gate never waves through what it cannot read.

/** @typedef {{ topic: string, path: string, rule: string, breaking: boolean, detail: string }} Change */

const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "title",
  "description",
  "default",
  "examples",
  "$comment",
  "deprecated",
  "readOnly",
  "writeOnly",
]);
const HANDLED = new Set([
  "type",
  "anyOf",
  "oneOf",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "enum",
  "const",
  "pattern",
  "format",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
]);

/** Rules and what each means, for messages and the README. */
export const rules = {
  "field-removed": { breaking: true, text: "field removed or renamed" },
  "required-field-added": { breaking: true, text: "new required field" },
  "field-made-required": { breaking: true, text: "field made required" },
  "field-made-optional": { breaking: true, text: "required field made optional (consumers read it)" },
  "type-narrowed": { breaking: true, text: "type narrowed" },
  "null-removed": { breaking: true, text: "null no longer allowed" },
  "enum-value-removed": { breaking: true, text: "enum value removed" },
  "bound-tightened": { breaking: true, text: "bound tightened" },
  "additional-properties-closed": { breaking: true, text: "unknown fields no longer allowed" },
  "unsupported-change": { breaking: true, text: "cannot prove compatible" },
  "topic-removed": { breaking: true, text: "topic removed" },
  "optional-field-added": { breaking: false, text: "new optional field" },
  "type-widened": { breaking: false, text: "type widened" },
  "null-allowed": { breaking: false, text: "null now allowed" },
  "enum-value-added": { breaking: false, text: "new enum value" },
  "bound-loosened": { breaking: false, text: "bound loosened" },
  "additional-properties-opened": { breaking: false, text: "unknown fields now allowed" },
  "topic-added": { breaking: false, text: "new topic" },
};

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v) => JSON.stringify(v);
const where = (path) => path || "(envelope)";
const same = (a, b) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, canonical(v[k])]),
  );
}

/** A schema as its alternatives: `anyOf`/`oneOf` and `type: [..]` split into one branch per type. */
function branches(schema) {
  if (schema === true || schema === undefined || (isObject(schema) && Object.keys(schema).every((k) => ANNOTATIONS.has(k)))) {
    return [{ type: "any", schema: {} }];
  }
  if (schema === false) return [];
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) {
    const { anyOf: _a, oneOf: _o, ...shared } = schema;
    return alternatives.flatMap((alt) => branches({ ...shared, ...alt }));
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? ["any"] : [schema.type];
  return types.map((type) => ({ type, schema: { ...schema, type } }));
}

/**
 * Every change between `before` and `after` (JSON Schemas of one topic's envelope), breaking or not.
 * @returns {Change[]}
 */
export function compareSchemas(topic, before, after) {
  /** @type {Change[]} */
  const changes = [];
  const add = (path, rule, detail) => changes.push({ topic, path: where(path), rule, breaking: rules[rule].breaking, detail });
  walk(before, after, "", add);
  return changes;
}

function walk(before, after, path, add) {
  const old = branches(before);
  const next = branches(after);
  const byType = (list, type) => list.find((b) => b.type === type);
  const nextAny = byType(next, "any");
  for (const o of old) {
    const match = byType(next, o.type) ?? (o.type === "integer" ? byType(next, "number") : undefined);
    if (match) {
      if (match.type !== o.type) add(path, "type-widened", `integer is now number`);
      compareBranch(o.schema, match.schema, path, add);
    } else if (nextAny) {
      add(path, "type-widened", `${o.type} is now any value`);
    } else if (o.type === "null") {
      add(path, "null-removed", "was nullable, null is now rejected");
    } else if (o.type === "number" && byType(next, "integer")) {
      add(path, "type-narrowed", "number is now integer");
      compareBranch(o.schema, byType(next, "integer").schema, path, add);
    } else {
      add(
        path,
        "type-narrowed",
        `${o.type === "any" ? "any value" : o.type} no longer allowed (now ${next.map((b) => b.type).join(" | ") || "nothing"})`,
      );
    }
  }
  const oldAny = byType(old, "any");
  for (const n of next) {
    if (oldAny || byType(old, n.type)) continue;
    if (n.type === "number" && byType(old, "integer")) continue;
    if (n.type === "integer" && byType(old, "number")) continue;
    if (n.type === "null") add(path, "null-allowed", "null is now accepted");
    else add(path, "type-widened", `${n.type} now accepted`);
  }
}

function compareBranch(o, n, path, add) {
  // Unknown keywords first: a change there is breaking until someone teaches this file the keyword.
  for (const key of new Set([...Object.keys(o), ...Object.keys(n)])) {
    if (ANNOTATIONS.has(key) || HANDLED.has(key)) continue;
    if (!same(o[key], n[key])) add(path, "unsupported-change", `keyword ${key} changed from ${show(o[key])} to ${show(n[key])}`);
  }
  compareValues(o, n, path, add);
  compareLength(o, n, path, add, "minLength", "maxLength");
  compareLength(o, n, path, add, "minItems", "maxItems");
  compareLength(o, n, path, add, "minProperties", "maxProperties");
  compareRange(o, n, path, add);
  compareExact(o, n, path, add, "pattern");
  compareExact(o, n, path, add, "format");
  if (o.multipleOf !== n.multipleOf) {
    if (n.multipleOf === undefined || (o.multipleOf !== undefined && Number.isInteger(o.multipleOf / n.multipleOf))) {
      add(path, "bound-loosened", `multipleOf ${o.multipleOf} → ${n.multipleOf ?? "none"}`);
    } else add(path, "bound-tightened", `multipleOf ${o.multipleOf ?? "none"} → ${n.multipleOf}`);
  }
  if (!o.uniqueItems && n.uniqueItems) add(path, "bound-tightened", "uniqueItems added");
  if (o.uniqueItems && !n.uniqueItems) add(path, "bound-loosened", "uniqueItems dropped");
  if (o.type === "object") compareObject(o, n, path, add);
  if (o.type === "array" && !(o.items === undefined && n.items === undefined)) walk(o.items, n.items, `${path}[]`, add);
}

// `const` is an enum of one value.
function compareValues(o, n, path, add) {
  const values = (s) => (s.const !== undefined ? [s.const] : Array.isArray(s.enum) ? s.enum : undefined);
  const ov = values(o);
  const nv = values(n);
  if (ov === undefined && nv === undefined) return;
  if (ov === undefined) {
    add(path, "type-narrowed", `now limited to ${show(nv)}`);
    return;
  }
  if (nv === undefined) {
    add(path, "type-widened", `no longer limited to ${show(ov)}`);
    return;
  }
  const has = (list, v) => list.some((x) => same(x, v));
  for (const v of ov) if (!has(nv, v)) add(path, "enum-value-removed", `${show(v)} is no longer accepted`);
  for (const v of nv) if (!has(ov, v)) add(path, "enum-value-added", `${show(v)} is new`);
}

function compareLength(o, n, path, add, min, max) {
  if (o[min] !== n[min]) {
    const tighter = n[min] !== undefined && (o[min] === undefined || n[min] > o[min]);
    add(path, tighter ? "bound-tightened" : "bound-loosened", `${min} ${o[min] ?? "none"} → ${n[min] ?? "none"}`);
  }
  if (o[max] !== n[max]) {
    const tighter = n[max] !== undefined && (o[max] === undefined || n[max] < o[max]);
    add(path, tighter ? "bound-tightened" : "bound-loosened", `${max} ${o[max] ?? "none"} → ${n[max] ?? "none"}`);
  }
}

// minimum/exclusiveMinimum (and the maxima) together: `.min(0)` → `.gt(0)` tightens, the reverse loosens.
function compareRange(o, n, path, add) {
  const bound = (s, inclusive, exclusive, pickTighter) => {
    const a = s[inclusive] === undefined ? undefined : { value: s[inclusive], exclusive: false };
    const b = typeof s[exclusive] === "number" ? { value: s[exclusive], exclusive: true } : undefined;
    if (!a || !b) return a ?? b;
    return pickTighter(a, b);
  };
  const text = (b, inclusive, exclusive) => (b ? `${b.exclusive ? exclusive : inclusive} ${b.value}` : "none");
  const lowerTighter = (x, y) => x.value > y.value || (x.value === y.value && x.exclusive && !y.exclusive);
  const upperTighter = (x, y) => x.value < y.value || (x.value === y.value && x.exclusive && !y.exclusive);
  for (const [inclusive, exclusive, tighter] of [
    ["minimum", "exclusiveMinimum", lowerTighter],
    ["maximum", "exclusiveMaximum", upperTighter],
  ]) {
    const pick = (x, y) => (tighter(x, y) ? x : y);
    const ob = bound(o, inclusive, exclusive, pick);
    const nb = bound(n, inclusive, exclusive, pick);
    if (same(ob, nb)) continue;
    const detail = `${text(ob, inclusive, exclusive)} → ${text(nb, inclusive, exclusive)}`;
    const isTighter = nb !== undefined && (ob === undefined || tighter(nb, ob));
    add(path, isTighter ? "bound-tightened" : "bound-loosened", detail);
  }
}

// Whether one regular expression accepts everything another does is not decidable here: any new or
// different pattern (or format) is a tightening, a dropped one a loosening.
function compareExact(o, n, path, add, key) {
  if (o[key] === n[key]) return;
  if (n[key] === undefined) add(path, "bound-loosened", `${key} ${show(o[key])} dropped`);
  else add(path, "bound-tightened", `${key} ${o[key] === undefined ? "added" : `changed from ${show(o[key])}`}: ${show(n[key])}`);
}

function compareObject(o, n, path, add) {
  const op = isObject(o.properties) ? o.properties : {};
  const np = isObject(n.properties) ? n.properties : {};
  const oreq = new Set(Array.isArray(o.required) ? o.required : []);
  const nreq = new Set(Array.isArray(n.required) ? n.required : []);
  const child = (name) => (path ? `${path}.${name}` : name);
  const added = Object.keys(np).filter((k) => !Object.hasOwn(op, k));
  for (const name of Object.keys(op)) {
    if (!Object.hasOwn(np, name)) {
      add(child(name), "field-removed", added.length > 0 ? `gone; new beside it: ${added.join(", ")} (a rename is a removal)` : "gone");
      continue;
    }
    if (oreq.has(name) && !nreq.has(name)) add(child(name), "field-made-optional", "was required, may now be missing");
    if (!oreq.has(name) && nreq.has(name)) add(child(name), "field-made-required", "was optional, is now required");
    walk(op[name], np[name], child(name), add);
  }
  for (const name of added) {
    if (nreq.has(name)) add(child(name), "required-field-added", "new and required: events already written and older publishers lack it");
    else add(child(name), "optional-field-added", "new, not required");
  }
  const openness = (s) =>
    s.additionalProperties === false
      ? "closed"
      : isObject(s.additionalProperties) && Object.keys(s.additionalProperties).length > 0
        ? "schema"
        : "open";
  const oa = openness(o);
  const na = openness(n);
  if (oa === na && oa === "schema") walk(o.additionalProperties, n.additionalProperties, child("*"), add);
  else if (oa !== na) {
    const narrower = na === "closed" || (na === "schema" && oa === "open");
    add(path, narrower ? "additional-properties-closed" : "additional-properties-opened", `additionalProperties ${oa} → ${na}`);
  }
}

/** `decision.made.v2` → { base: "decision.made", version: 2 }. */
export function topicVersion(topic) {
  const m = /^(.*)\.v(\d+)$/.exec(topic);
  return m ? { base: m[1], version: Number(m[2]) } : { base: topic, version: 0 };
}

/**
 * Compares every topic: `before` and `after` map topic name → JSON Schema.
 * @returns {Change[]}
 */
export function compareTopics(before, after) {
  /** @type {Change[]} */
  const changes = [];
  for (const topic of Object.keys(before).sort()) {
    if (Object.hasOwn(after, topic)) {
      changes.push(...compareSchemas(topic, before[topic], after[topic]));
      continue;
    }
    const { base, version } = topicVersion(topic);
    const successor = Object.keys(after).find((t) => topicVersion(t).base === base && topicVersion(t).version > version);
    changes.push({
      topic,
      path: "(topic)",
      rule: "topic-removed",
      breaking: true,
      detail: successor ? `schema file gone; successor ${successor} exists` : "schema file gone and no later version exists",
      successor,
    });
  }
  for (const topic of Object.keys(after).sort()) {
    if (Object.hasOwn(before, topic)) continue;
    const { base, version } = topicVersion(topic);
    const earlier = Object.keys(before).find((t) => topicVersion(t).base === base && topicVersion(t).version < version);
    changes.push({
      topic,
      path: "(topic)",
      rule: "topic-added",
      breaking: false,
      detail: earlier ? `new version beside ${earlier}` : "new topic",
    });
  }
  return changes;
}

const BUMPS = ["none", "patch", "minor", "major"];

/**
 * The highest bump that pending changesets give `name`: "none" when none names it.
 * @param {string[]} texts the text of each .changeset/*.md (README.md excluded)
 */
export function pendingBump(texts, name) {
  let best = "none";
  for (const text of texts) {
    const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
    if (!front) continue;
    for (const line of front[1].split(/\r?\n/)) {
      const m = /^\s*["']?([^"':]+)["']?\s*:\s*(major|minor|patch|none)\s*$/.exec(line);
      if (m && m[1] === name && BUMPS.indexOf(m[2]) > BUMPS.indexOf(best)) best = m[2];
    }
  }
  return best;
}

/**
 * The gate's verdict. Breaking changes fail; retiring a topic passes only with a successor version
 * and a major changeset of core. Any compatible change needs at least a minor changeset of core.
 * @param {Change[]} changes
 * @param {string} bump the pending bump of core (pendingBump)
 * @returns {{ ok: boolean, failures: string[], notes: string[] }}
 */
export function verdict(changes, bump, core = "@kaireon/events-core") {
  const failures = [];
  const notes = [];
  for (const c of changes) {
    const line = `${c.topic}: ${c.path} — ${rules[c.rule].text} (${c.rule}): ${c.detail}`;
    if (c.rule === "topic-removed" && c.successor && bump === "major") {
      notes.push(`${line} — retired in a major release of ${core}`);
    } else if (c.breaking) {
      const { base, version } = topicVersion(c.topic);
      const fix =
        c.rule === "topic-removed"
          ? c.successor
            ? `retiring a topic needs a major changeset of ${core}`
            : `keep ${c.topic}; retire it only after a later version has been published beside it`
          : `keep ${c.topic} as released and make this change in a new topic ${base}.v${version + 1} published beside it (core README, "Evolving a topic")`;
      failures.push(`${line} — ${fix}`);
    } else notes.push(line);
  }
  const compatible = changes.filter((c) => !c.breaking);
  if (compatible.length > 0 && BUMPS.indexOf(bump) < BUMPS.indexOf("minor")) {
    failures.push(
      `${compatible.length} compatible topic change(s) need a minor changeset of ${core}, found ${bump === "none" ? "none" : `only ${bump}`} — run pnpm changeset and pick minor for ${core}`,
    );
  }
  if (changes.some((c) => c.rule === "enum-value-added")) {
    notes.push(
      "a new enum value: consumers on an older core reject it until they upgrade; upgrade consumers first, and keep a default branch in a switch over it",
    );
  }
  return { ok: failures.length === 0, failures, notes };
}
