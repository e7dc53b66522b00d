// The compiled hot path (src/compiled.ts) must accept exactly what zod accepts, copy it in the same
// shape, write exactly what JSON.stringify writes, and leave every error message to zod.
import { describe, expect, it } from "vitest";
import { lazyCompiled } from "../../src/compiled.js";
import { createEvent, type DomainEvent, parseEvent, serializeEvent } from "../../src/envelope.js";
import { type TopicName, topicNames, topicSchemas } from "../../src/topics.js";
import { decision, interaction } from "./../fixtures.js";

const base: Record<TopicName, Record<string, unknown>> = {
  "interaction.recorded.v1": interaction() as unknown as Record<string, unknown>,
  "decision.made.v1": decision() as unknown as Record<string, unknown>,
};

// Values each field is tried with: every kind of wrong (and right) value for every type of field.
const probes: unknown[] = [
  undefined,
  null,
  "",
  "x",
  "a".repeat(256),
  "a".repeat(257),
  "😀".repeat(128), // 256 UTF-16 units: zod's limit is in units, not code points
  "😀".repeat(129),
  'quote " and \\ backslash',
  "line\nbreak\u0000",
  "\ud800 lone surrogate",
  "click",
  "view",
  "impression",
  "2026-11-27T10:00:00.000Z",
  "2026-11-27T10:00:00+01:00",
  "2026-11-27T10:00:00",
  "2026-02-30T10:00:00Z",
  "2024-02-29T23:59:59.123456Z",
  0,
  -1,
  0.5,
  1,
  1.5,
  3,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -0,
  true,
  {},
  [],
  ["a"],
];

function corpus(topic: TopicName): unknown[] {
  const b = base[topic];
  const out: unknown[] = [b, null, undefined, "text", 42, [], [b], { ...b, extra: 1 }, { ...b, ["__proto__"]: 1 }];
  out.push(JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(b).slice(1)}`));
  for (const field of Object.keys(b)) {
    const { [field]: _, ...without } = b;
    out.push(without);
    for (const value of probes) out.push({ ...b, [field]: value });
  }
  out.push(Object.assign(Object.create({ inherited: 1 }), b));
  return out;
}

describe.each(topicNames)("compiled %s", (topic) => {
  const compiled = lazyCompiled(topicSchemas[topic])();

  it("is compiled (the topic's schema uses only what the compiler knows)", () => {
    expect(compiled).toBeDefined();
  });

  it("accepts exactly what zod accepts, copies the same object, and writes what JSON.stringify writes", () => {
    let valid = 0;
    let invalid = 0;
    for (const input of corpus(topic)) {
      const zod = topicSchemas[topic].safeParse(input);
      const copy = compiled?.copy(input);
      const label = JSON.stringify(input) ?? String(input);
      expect(copy !== undefined, `compiled and zod disagree on ${label}`).toBe(zod.success);
      if (zod.success && copy) {
        valid++;
        expect(copy).toEqual(zod.data);
        expect(Object.keys(copy)).toEqual(Object.keys(zod.data as object));
        expect(compiled?.write(copy)).toBe(JSON.stringify(zod.data));
      } else invalid++;
    }
    expect(valid).toBeGreaterThan(10);
    expect(invalid).toBeGreaterThan(100);
  });
});

describe("createEvent on the compiled path", () => {
  it("gives every invalid payload exactly zod's error message", () => {
    for (const topic of topicNames) {
      for (const input of corpus(topic)) {
        const zod = topicSchemas[topic].safeParse(input);
        if (zod.success) continue;
        const expected = zod.error.issues.map((i) => `${["data", ...i.path.map(String)].join(".")}: ${i.message}`).join("; ");
        expect(() => createEvent(topic, input as never)).toThrow(
          `[core] invalid ${topic} payload: ${expected} — fix these fields; nothing was published`,
        );
      }
    }
  });

  it("serializes to the same text as JSON.stringify of the event", () => {
    const strange = interaction({ outcomeTypeKey: 'a "quoted"\nvalue', campaignId: "\ud83d\ude00 ok", creativeId: "\ud800" });
    for (const event of [
      createEvent("interaction.recorded.v1", strange),
      createEvent("decision.made.v1", decision({ topPropensity: null, topOfferId: null })),
      // The envelope's own strings (subject, tenantid, partitionkey come from the payload; source).
      createEvent("decision.made.v1", decision({ customerId: 'c "1"\\', tenantId: "t\u0001\ud83d\ude00" }), { source: 'svc "a"\n' }),
      createEvent("interaction.recorded.v1", interaction({ customerId: "\udc00", tenantId: "plain" }), { source: "\u001f" }),
    ]) {
      expect(serializeEvent(event)).toBe(JSON.stringify(event));
      expect(JSON.parse(serializeEvent(event))).toEqual(JSON.parse(JSON.stringify(event)));
    }
  });

  it("scans every string that may need escaping: repeated values, changed ones, envelopes and payloads changed after creation, a re-entrant getter", () => {
    // Each payload field and the source remember the last string found plain; subject, tenantid and
    // partitionkey are not scanned while they are still the strings createEvent made from a plain payload.
    const events: DomainEvent[] = [
      createEvent("decision.made.v1", decision({ tenantId: "t1", decisionFlowKey: "flow" })),
      createEvent("decision.made.v1", decision({ tenantId: "t1", decisionFlowKey: "flow" })),
      createEvent("decision.made.v1", decision({ tenantId: 't"1', decisionFlowKey: "flow\n" })),
      createEvent("decision.made.v1", decision({ tenantId: "t1" }), { source: "svc" }),
      createEvent("decision.made.v1", decision({ tenantId: "t1" }), { source: 'svc"' }),
      createEvent("decision.made.v1", decision({ tenantId: "t1" }), { source: "svc" }),
    ];
    const changed = [
      ["subject", 'c"1'],
      ["tenantid", "t\u0001"],
      ["partitionkey", "t1:c\\1"],
      ["subject", "\ud800"],
    ] as const;
    for (const [field, value] of changed) {
      const event = createEvent("decision.made.v1", decision({ tenantId: "t1" }));
      (event as unknown as Record<string, string>)[field] = value;
      events.push(event);
    }
    // The payload changed after creation: the partitionkey createEvent made from it stays as it was.
    const stale = [
      { from: { customerId: 'c"1' }, to: { customerId: "c1" }, fields: { subject: "c1" } },
      { from: { tenantId: "t\\1" }, to: { tenantId: "t1" }, fields: { tenantid: "t1" } },
      { from: { customerId: "c\n1" }, to: {}, fields: { subject: decision().customerId } },
    ];
    for (const { from, to, fields } of stale) {
      const event = createEvent("decision.made.v1", decision(from));
      Object.assign(event.data, decision(), to);
      Object.assign(event, fields);
      events.push(event);
    }
    // A getter on the envelope that serializes another (plain) event while this one is written.
    const reentrant = createEvent("decision.made.v1", decision({ customerId: 'c"1' }));
    const payload = reentrant.data;
    Object.defineProperty(reentrant, "data", {
      enumerable: true,
      get() {
        serializeEvent(createEvent("decision.made.v1", decision()));
        return payload;
      },
    });
    events.push(reentrant);
    // A nullable field's memo: plain, then a value that needs escaping, then null.
    for (const campaignId of ["ok", "ok", 'o"k', null, "ok", 'o"k']) {
      events.push(createEvent("interaction.recorded.v1", interaction({ campaignId })));
    }
    // Fields of other types, or outside their enum, after creation: written as JSON.stringify writes them.
    const retyped: [TopicName, Record<string, unknown>][] = [
      ["decision.made.v1", { offersReturned: 'a"b' }],
      ["decision.made.v1", { topPropensity: Number.NaN }],
      ["decision.made.v1", { topPropensity: "0.5" }],
      ["decision.made.v1", { customerId: 42 }],
      ["decision.made.v1", { topOfferId: { id: 1 } }],
      ["interaction.recorded.v1", { interactionType: 'cl"ick' }],
      ["interaction.recorded.v1", { campaignId: 7 }],
    ];
    for (const [topic, change] of retyped) {
      const event: DomainEvent =
        topic === "decision.made.v1" ? createEvent(topic, decision()) : createEvent("interaction.recorded.v1", interaction());
      Object.assign(event.data, change);
      events.push(event);
    }
    // The envelope itself changed into another shape: written by JSON.stringify.
    const reshaped: ((e: Record<string, unknown>) => void)[] = [
      (e) => {
        const { tenantId, ...rest } = e.data as Record<string, unknown>;
        e.data = { ...rest, tenantId };
      },
      (e) => {
        e.data = Object.assign(Object.create({ toJSON: () => "X" }), e.data);
      },
      (e) => {
        e.data = null;
      },
      (e) => {
        e.id = 5;
      },
      (e) => {
        e.time = new Date(0);
      },
      (e) => {
        e.traceparent = null;
      },
      (e) => {
        e.datacontenttype = "text/plain";
      },
      (e) => {
        delete e.datacontenttype;
        e.extra = 1;
      },
    ];
    for (const change of reshaped) {
      const event = createEvent("decision.made.v1", decision());
      change(event as unknown as Record<string, unknown>);
      events.push(event);
    }
    const parsed = parseEvent(JSON.stringify(createEvent("decision.made.v1", decision())));
    (parsed as unknown as Record<string, unknown>).data = undefined;
    events.push(parsed);
    for (const event of events) {
      expect(serializeEvent(event)).toBe(JSON.stringify(event));
      expect(() => JSON.parse(serializeEvent(event))).not.toThrow();
    }
  });

  it("keeps the event apart from the caller's object: a later change to the input changes nothing", () => {
    const input = decision();
    const event = createEvent("decision.made.v1", input);
    input.customerId = "changed";
    expect(event.data.customerId).toBe("cust-42");
    expect(serializeEvent(event)).toContain('"customerId":"cust-42"');
  });
});
