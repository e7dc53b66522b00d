import { createEvent } from "@kaireon/events-core";
import { sampleDecision } from "@kaireon/events-testkit";
import { describe, expect, it } from "vitest";
import { entrySize, toPutEventsEntry, traceHeaderFromTraceparent } from "../../src/index.js";

describe("entrySize (AWS: Time 14 bytes if present + UTF-8 bytes of Source, DetailType, Detail, Resources)", () => {
  it("counts exactly those fields", () => {
    expect(entrySize({ Source: "abc", DetailType: "de", Detail: '{"x":1}' })).toBe(3 + 2 + 7);
    expect(entrySize({ Source: "abc", DetailType: "de", Detail: '{"x":1}', Time: new Date() })).toBe(3 + 2 + 7 + 14);
    expect(entrySize({ Source: "a", DetailType: "b", Detail: "{}", Resources: ["arn:1", "arn:22"] })).toBe(1 + 1 + 2 + 5 + 6);
    // UTF-8 bytes, not characters; EventBusName and TraceHeader do not count.
    expect(entrySize({ Source: "é", DetailType: "€", Detail: '"😀"', EventBusName: "bus", TraceHeader: "Root=1" })).toBe(2 + 3 + 6);
  });

  it("weighs a mapped envelope as Source + topic + envelope JSON + Time", () => {
    const event = createEvent("decision.made.v1", sampleDecision());
    const entry = toPutEventsEntry(event, "default", undefined);
    expect(entrySize(entry)).toBe(
      14 + Buffer.byteLength(event.source) + Buffer.byteLength(event.type) + Buffer.byteLength(JSON.stringify(event)),
    );
  });
});

describe("traceHeaderFromTraceparent", () => {
  it("turns a W3C traceparent into an X-Ray header", () => {
    expect(traceHeaderFromTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).toBe(
      "Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331;Sampled=1",
    );
    expect(traceHeaderFromTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")).toContain("Sampled=0");
    expect(traceHeaderFromTraceparent(undefined)).toBeUndefined();
    expect(traceHeaderFromTraceparent("garbage")).toBeUndefined();
  });
});
