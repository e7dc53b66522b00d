// The release gate's rules (tooling/release/topic-compat.mjs), one fixture per kind of change, made
// by editing the real checked-in schemas; and the gate script end to end on a scratch git repository.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error plain .mjs module of the release tooling
import { compareSchemas, compareTopics, pendingBump, verdict } from "../../../../tooling/release/topic-compat.mjs";

type Schema = Record<string, any>;
interface Change {
  topic: string;
  path: string;
  rule: string;
  breaking: boolean;
  detail: string;
}

const schemasDir = new URL("../../schemas/", import.meta.url);
const load = (topic: string): Schema => JSON.parse(readFileSync(new URL(`${topic}.json`, schemasDir), "utf8"));
const decision = load("decision.made.v1");
const interaction = load("interaction.recorded.v1");
const data = (s: Schema) => s.properties.data;
const field = (s: Schema, name: string) => data(s).properties[name];
// The checked-in data object is open; opening a closed one needs a closed base.
const closedDecision = structuredClone(decision);
data(closedDecision).additionalProperties = false;

function diff(base: Schema, edit: (s: Schema) => void): Change[] {
  const after = structuredClone(base);
  edit(after);
  return compareSchemas(base.title, base, after);
}

const breaking: [string, Schema, (s: Schema) => void, string, string][] = [
  ["a field removed", decision, (s) => delete data(s).properties.decisionFlowKey, "field-removed", "data.decisionFlowKey"],
  [
    "a field renamed",
    decision,
    (s) => {
      data(s).properties.flowKey = field(s, "decisionFlowKey");
      delete data(s).properties.decisionFlowKey;
      data(s).required = data(s).required.map((r: string) => (r === "decisionFlowKey" ? "flowKey" : r));
    },
    "field-removed",
    "data.decisionFlowKey",
  ],
  [
    "a new required field",
    decision,
    (s) => {
      data(s).properties.score = { type: "number" };
      data(s).required.push("score");
    },
    "required-field-added",
    "data.score",
  ],
  [
    "a new required field that allows null",
    decision,
    (s) => {
      data(s).properties.segmentId = { anyOf: [{ type: "string" }, { type: "null" }] };
      data(s).required.push("segmentId");
    },
    "required-field-added",
    "data.segmentId",
  ],
  ["an optional envelope attribute made required", decision, (s) => s.required.push("traceparent"), "field-made-required", "traceparent"],
  [
    "a required field made optional",
    decision,
    (s) => {
      data(s).required = data(s).required.filter((r: string) => r !== "topOfferId");
    },
    "field-made-optional",
    "data.topOfferId",
  ],
  [
    "a type narrowed (number → integer)",
    decision,
    (s) => (field(s, "topPropensity").anyOf[0].type = "integer"),
    "type-narrowed",
    "data.topPropensity",
  ],
  [
    "a type narrowed (string → number)",
    decision,
    (s) => (data(s).properties.customerId = { type: "number" }),
    "type-narrowed",
    "data.customerId",
  ],
  [
    "a type narrowed (free string → enum)",
    decision,
    (s) => (field(s, "decisionFlowKey").enum = ["default", "fallback"]),
    "type-narrowed",
    "data.decisionFlowKey",
  ],
  [
    "null no longer allowed (anyOf)",
    decision,
    (s) => (data(s).properties.topOfferId = field(s, "topOfferId").anyOf[0]),
    "null-removed",
    "data.topOfferId",
  ],
  [
    "an enum value removed",
    interaction,
    (s) => (field(s, "interactionType").enum = field(s, "interactionType").enum.filter((v: string) => v !== "complaint")),
    "enum-value-removed",
    "data.interactionType",
  ],
  ["minLength raised", decision, (s) => (field(s, "tenantId").minLength = 3), "bound-tightened", "data.tenantId"],
  ["maxLength lowered", decision, (s) => (field(s, "tenantId").maxLength = 64), "bound-tightened", "data.tenantId"],
  ["minimum raised", decision, (s) => (field(s, "offersReturned").minimum = 1), "bound-tightened", "data.offersReturned"],
  ["maximum lowered", decision, (s) => (field(s, "topPropensity").anyOf[0].maximum = 0.5), "bound-tightened", "data.topPropensity"],
  [
    "minimum made exclusive (.min(0) → .gt(0))",
    decision,
    (s) => {
      delete field(s, "offersReturned").minimum;
      field(s, "offersReturned").exclusiveMinimum = 0;
    },
    "bound-tightened",
    "data.offersReturned",
  ],
  ["a pattern added", decision, (s) => (field(s, "customerId").pattern = "^c-"), "bound-tightened", "data.customerId"],
  ["a pattern changed", decision, (s) => (s.properties.id.pattern = "^[0-9a-f]{32}$"), "bound-tightened", "id"],
  ["a format added", decision, (s) => (field(s, "recommendationId").format = "uuid"), "bound-tightened", "data.recommendationId"],
  ["unknown fields no longer allowed", decision, (s) => (data(s).additionalProperties = false), "additional-properties-closed", "data"],
  [
    "a keyword the gate does not know",
    decision,
    (s) => (field(s, "customerId").not = { const: "x" }),
    "unsupported-change",
    "data.customerId",
  ],
];

const compatible: [string, Schema, (s: Schema) => void, string, string][] = [
  ["a new optional field", decision, (s) => (data(s).properties.note = { type: "string" }), "optional-field-added", "data.note"],
  [
    "a new nullable field with default null (zod .nullable().default(null))",
    decision,
    (s) => (data(s).properties.segmentId = { default: null, type: ["string", "null"] }),
    "optional-field-added",
    "data.segmentId",
  ],
  [
    "a type widened (integer → number)",
    decision,
    (s) => (field(s, "offersReturned").type = "number"),
    "type-widened",
    "data.offersReturned",
  ],
  [
    "a type widened (string → string | number)",
    decision,
    (s) => (data(s).properties.customerId = { anyOf: [field(s, "customerId"), { type: "number" }] }),
    "type-widened",
    "data.customerId",
  ],
  [
    "null now allowed",
    decision,
    (s) => (data(s).properties.customerId = { anyOf: [field(s, "customerId"), { type: "null" }] }),
    "null-allowed",
    "data.customerId",
  ],
  ["a new enum value", interaction, (s) => field(s, "interactionType").enum.push("share"), "enum-value-added", "data.interactionType"],
  ["maxLength raised", decision, (s) => (field(s, "tenantId").maxLength = 512), "bound-loosened", "data.tenantId"],
  ["minimum lowered", decision, (s) => (field(s, "topPropensity").anyOf[0].minimum = -1), "bound-loosened", "data.topPropensity"],
  ["a pattern dropped", decision, (s) => delete s.properties.traceparent.pattern, "bound-loosened", "traceparent"],
  ["unknown fields now allowed", closedDecision, (s) => (data(s).additionalProperties = {}), "additional-properties-opened", "data"],
];

describe("topic schema compatibility: breaking kinds", () => {
  it.each(breaking)("%s is breaking", (_name, base, edit, rule, path) => {
    const changes = diff(base, edit);
    expect(changes).toContainEqual(expect.objectContaining({ rule, path, breaking: true }));
    const result = verdict(changes, "major");
    expect(result.ok).toBe(false);
    expect(result.failures.join("\n")).toContain(`${path} — `);
    expect(result.failures.join("\n")).toContain(`(${rule})`);
    expect(result.failures.join("\n")).toContain(`${base.title.replace(/\.v1$/, ".v2")} published beside it`);
  });

  it("names the new fields beside a removed one (a rename)", () => {
    const changes = diff(decision, breaking[1]![2]);
    expect(changes.find((c) => c.rule === "field-removed")?.detail).toContain("flowKey");
  });

  it("null no longer allowed, in the type-array form zod writes for simple unions", () => {
    const before = { type: "object", properties: { a: { type: ["string", "null"] } }, required: ["a"] };
    const after = { type: "object", properties: { a: { type: "string" } }, required: ["a"] };
    expect(compareSchemas("t.v1", before, after)).toEqual([expect.objectContaining({ rule: "null-removed", path: "a" })]);
  });

  it("array items and maxItems are compared too", () => {
    const before = { type: "object", properties: { tags: { type: "array", items: { type: "string" } } } };
    const after = { type: "object", properties: { tags: { type: "array", maxItems: 3, items: { type: "string", maxLength: 8 } } } };
    const rules = compareSchemas("t.v1", before, after).map((c: Change) => `${c.path} ${c.rule}`);
    expect(rules).toEqual(["tags bound-tightened", "tags[] bound-tightened"]);
  });
});

describe("topic schema compatibility: compatible kinds", () => {
  it.each(compatible)("%s is compatible and needs a minor changeset of core", (_name, base, edit, rule, path) => {
    const changes = diff(base, edit);
    expect(changes).toEqual([expect.objectContaining({ rule, path, breaking: false })]);
    expect(verdict(changes, "minor").ok).toBe(true);
    expect(verdict(changes, "major").ok).toBe(true);
    for (const bump of ["none", "patch"]) {
      const result = verdict(changes, bump);
      expect(result.ok).toBe(false);
      expect(result.failures).toEqual([expect.stringContaining("need a minor changeset of @kaireon/events-core")]);
    }
  });

  it("a new enum value carries the consumer note", () => {
    const result = verdict(diff(interaction, compatible[5]![2]), "minor");
    expect(result.notes.join("\n")).toContain("upgrade consumers first");
  });

  it(".gt(0) → .min(0) loosens, .min(0) → .min(0) is no change", () => {
    const gt = { type: "number", exclusiveMinimum: 0 };
    expect(compareSchemas("t.v1", gt, { type: "number", minimum: 0 })).toEqual([expect.objectContaining({ rule: "bound-loosened" })]);
    expect(compareSchemas("t.v1", decision, decision)).toEqual([]);
  });
});

describe("topic set", () => {
  const v2 = structuredClone(decision);
  v2.properties.type.const = "decision.made.v2";
  delete data(v2).properties.decisionFlowKey;

  it("a breaking change made as a new .v2 beside an unchanged .v1 is a compatible new topic", () => {
    const changes = compareTopics({ "decision.made.v1": decision }, { "decision.made.v1": decision, "decision.made.v2": v2 });
    expect(changes).toEqual([
      expect.objectContaining({
        topic: "decision.made.v2",
        rule: "topic-added",
        breaking: false,
        detail: "new version beside decision.made.v1",
      }),
    ]);
    expect(verdict(changes, "minor").ok).toBe(true);
    expect(verdict(changes, "patch").ok).toBe(false);
  });

  it("a .v2 does not excuse a breaking edit of .v1", () => {
    const v1 = structuredClone(decision);
    delete data(v1).properties.decisionFlowKey;
    const changes = compareTopics({ "decision.made.v1": decision }, { "decision.made.v1": v1, "decision.made.v2": v2 });
    expect(verdict(changes, "major").failures).toEqual([
      expect.stringContaining("decision.made.v1: data.decisionFlowKey — field removed or renamed"),
    ]);
  });

  it("a topic removed fails; retiring it passes only with a later version and a major changeset", () => {
    const gone = compareTopics({ "decision.made.v1": decision }, {});
    expect(verdict(gone, "major").failures).toEqual([expect.stringContaining("retire it only after a later version")]);
    const retired = compareTopics({ "decision.made.v1": decision, "decision.made.v2": v2 }, { "decision.made.v2": v2 });
    expect(verdict(retired, "minor").failures).toEqual([expect.stringContaining("needs a major changeset")]);
    expect(verdict(retired, "major").ok).toBe(true);
  });
});

describe("pendingBump", () => {
  it("reads the highest bump of core from changeset front matter", () => {
    const texts = [
      '---\n"@kaireon/events-core": patch\n"@kaireon/events-redis": major\n---\n\nfix',
      "---\n'@kaireon/events-core': minor\n---\nx",
      "no front matter",
    ];
    expect(pendingBump(texts, "@kaireon/events-core")).toBe("minor");
    expect(pendingBump(texts.slice(0, 1), "@kaireon/events-core")).toBe("patch");
    expect(pendingBump([], "@kaireon/events-core")).toBe("none");
  });
});

describe("check-topic-compat.mjs on a scratch repository", () => {
  const script = fileURLToPath(new URL("../../../../tooling/release/check-topic-compat.mjs", import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), "kaireon-topic-compat-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]) =>
    execFileSync(
      "git",
      ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", ...args],
      {
        cwd: dir,
        encoding: "utf8",
      },
    );
  const run = () =>
    spawnSync(process.execPath, [script, "--root", dir], { encoding: "utf8", env: { ...process.env, KAIREON_COMPAT_BASE: "" } });
  const schemaFile = join(dir, "packages/events-core/schemas/decision.made.v1.json");
  const setChangeset = (bump: string | undefined) => {
    rmSync(join(dir, ".changeset"), { recursive: true, force: true });
    mkdirSync(join(dir, ".changeset"));
    if (bump) writeFileSync(join(dir, ".changeset/x.md"), `---\n"@kaireon/events-core": ${bump}\n---\n\nx\n`);
  };

  it("compares with the first commit of the schemas before a release, then with the last release", () => {
    git("init", "-q", "-b", "main");
    mkdirSync(join(dir, "packages/events-core"), { recursive: true });
    cpSync(fileURLToPath(schemasDir), join(dir, "packages/events-core/schemas"), { recursive: true });
    setChangeset(undefined);
    git("add", ".");
    git("commit", "-qm", "schemas");
    let out = run();
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain("no release of @kaireon/events-core yet");

    // A real breaking edit of a .v1 schema in the work tree fails, naming topic, field and rule.
    const edited = structuredClone(decision);
    edited.properties.data.properties.topOfferId = edited.properties.data.properties.topOfferId.anyOf[0];
    writeFileSync(schemaFile, JSON.stringify(edited, null, 2));
    out = run();
    expect(out.status).toBe(1);
    expect(out.stderr).toContain("decision.made.v1: data.topOfferId — null no longer allowed (null-removed)");

    // A compatible edit needs a minor changeset of core.
    const widened = structuredClone(decision);
    widened.properties.data.properties.note = { type: "string" };
    writeFileSync(schemaFile, JSON.stringify(widened, null, 2));
    out = run();
    expect(out.status).toBe(1);
    expect(out.stderr).toContain("need a minor changeset of @kaireon/events-core, found none");
    setChangeset("minor");
    out = run();
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain("data.note — new optional field");

    // Released (changeset version wrote the CHANGELOG, publish tagged it): the release is the baseline.
    writeFileSync(join(dir, "packages/events-core/CHANGELOG.md"), "# @kaireon/events-core\n\n## 0.1.0\n");
    setChangeset(undefined);
    git("add", ".");
    git("commit", "-qm", "Version packages");
    git("tag", "@kaireon/events-core@0.1.0");
    out = run();
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain("release tag @kaireon/events-core@0.1.0");
    expect(out.stdout).toContain("no topic schema changed");
    writeFileSync(schemaFile, JSON.stringify(decision, null, 2)); // drops `note` again: removed since 0.1.0
    out = run();
    expect(out.status).toBe(1);
    expect(out.stderr).toContain("decision.made.v1: data.note — field removed or renamed (field-removed)");
  });
});
