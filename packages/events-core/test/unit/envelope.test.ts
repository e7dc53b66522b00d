import { describe, expect, it } from "vitest";
import { createEvent, EventsError, parseEvent, safeParseEvent, serializeEvent, type ValidationError } from "../../src/index.js";
import { decision, interaction } from "../fixtures.js";

describe("createEvent", () => {
  it("builds a CloudEvents 1.0 envelope from the payload", () => {
    const event = createEvent("interaction.recorded.v1", interaction(), {
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    expect(event).toMatchObject({
      specversion: "1.0",
      source: "kaireon-platform",
      type: "interaction.recorded.v1",
      datacontenttype: "application/json",
      subject: "cust-42",
      tenantid: "tenant-1",
      partitionkey: "tenant-1:cust-42",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      data: interaction(),
    });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Date.parse(event.time)).not.toBeNaN();
    expect("traceparent" in createEvent("decision.made.v1", decision())).toBe(false);
  });

  it("names the bad field and says nothing was published", () => {
    const bad = { ...interaction(), customerId: "" };
    const error = (() => {
      try {
        createEvent("interaction.recorded.v1", bad);
      } catch (e) {
        return e;
      }
    })() as ValidationError;
    expect(EventsError.isInstance(error)).toBe(true);
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.issues.map((i) => i.path)).toEqual(["data.customerId"]);
    expect(error.message).toContain("data.customerId");
  });

  it.each([
    ["interactionType outside the enum", { interactionType: "view" }, "data.interactionType"],
    ["a missing nullable id (must be null, not absent)", { campaignId: undefined }, "data.campaignId"],
    ["a timestamp that is not ISO-8601", { timestamp: "yesterday" }, "data.timestamp"],
    ["an unknown field", { extra: 1 }, "data"],
  ])("rejects %s", (_label, patch, path) => {
    const data = { ...interaction(), ...patch } as never;
    expect(() => createEvent("interaction.recorded.v1", data)).toThrow(path);
  });

  it("rejects a propensity outside [0,1] and a fractional offer count", () => {
    expect(() => createEvent("decision.made.v1", decision({ topPropensity: 1.5 }))).toThrow("data.topPropensity");
    expect(() => createEvent("decision.made.v1", decision({ offersReturned: 1.5 }))).toThrow("data.offersReturned");
  });

  it("rejects an unknown topic with the list of topics", () => {
    expect(() => createEvent("order.placed.v1" as never, {} as never)).toThrow(/interaction\.recorded\.v1, decision\.made\.v1/);
  });

  it("rejects a malformed traceparent", () => {
    expect(() => createEvent("decision.made.v1", decision(), { traceparent: "nope" })).toThrow("traceparent");
  });
});

describe("parseEvent", () => {
  it("round-trips through JSON to an equal, typed event", () => {
    const event = createEvent("decision.made.v1", decision());
    const parsed = parseEvent(serializeEvent(event));
    expect(parsed).toEqual(event);
    if (parsed.type === "decision.made.v1") expect(parsed.data.topPropensity).toBe(0.42);
  });

  it("accepts bytes and unknown (newer, optional) fields", () => {
    const event = createEvent("interaction.recorded.v1", interaction());
    const newer = { ...event, data: { ...event.data, newOptionalField: "x" } };
    const parsed = parseEvent(Buffer.from(JSON.stringify(newer)));
    expect(parsed.id).toBe(event.id);
  });

  it("reports malformed JSON, unknown types and bad fields without throwing", () => {
    const notJson = safeParseEvent("{oops");
    expect(notJson.ok || notJson.error.code).toBe("MALFORMED_MESSAGE");
    const unknown = safeParseEvent({ type: "x" });
    expect(unknown.ok || unknown.error.code).toBe("UNKNOWN_TOPIC");
    const event = createEvent("interaction.recorded.v1", interaction());
    const bad = safeParseEvent({ ...event, data: { ...event.data, offerId: 5 } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.issues[0]?.path).toBe("data.offerId");
  });
});

describe("createEvent options.time", () => {
  it("takes an RFC 3339 time as given and refuses any other text, so the envelope is always valid JSON", () => {
    const given = createEvent("decision.made.v1", decision(), { time: "2026-12-01T09:30:00.000+01:00" });
    expect(given.time).toBe("2026-12-01T09:30:00.000+01:00");
    expect(JSON.parse(serializeEvent(given))).toEqual({ ...given });
    // Date.parse accepts these (the old check); written unquoted, the first broke the JSON.
    for (const time of ['Jan 1 2020 (a"b)', "2026-12-01", "Tue, 01 Dec 2026 09:30:00 GMT"]) {
      expect(() => createEvent("decision.made.v1", decision(), { time }), time).toThrow(/time: must be an RFC 3339 date-time/);
    }
    expect(createEvent("decision.made.v1", decision(), { time: new Date(0) }).time).toBe("1970-01-01T00:00:00.000Z");
  });
});

describe("serializeEvent", () => {
  it("writes exactly what JSON.stringify writes, with and without traceparent, and caches it", () => {
    const plain = createEvent("interaction.recorded.v1", interaction({ channelId: 'quote " and \\ and ü' }));
    const traced = createEvent("decision.made.v1", decision(), { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
    for (const event of [plain, traced]) {
      expect(serializeEvent(event)).toBe(JSON.stringify({ ...event }));
      expect(serializeEvent(event)).toBe(serializeEvent(event));
      expect(JSON.parse(serializeEvent(event))).toEqual({ ...event });
    }
  });

  it("writes what JSON.stringify writes when the envelope's own attributes need escaping, and for a parsed envelope", () => {
    const odd = [
      createEvent("decision.made.v1", decision({ customerId: 'c"1', tenantId: "t\\1" }), { source: 'src "x"' }),
      createEvent("interaction.recorded.v1", interaction({ customerId: "c\u0001\ud800", offerId: "o\n" })),
      createEvent("decision.made.v1", decision({ topOfferId: null, topPropensity: null }), {
        source: "é-source",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      }),
    ];
    for (const event of odd) {
      expect(serializeEvent(event)).toBe(JSON.stringify({ ...event }));
      // Read back (no compiled writer for its data): the same text again.
      const parsed = parseEvent(Buffer.from(JSON.stringify({ ...event })));
      expect(serializeEvent(parsed)).toBe(JSON.stringify({ ...event }));
    }
  });
});
