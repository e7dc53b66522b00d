import { createEvent } from "@kaireon/events-core";
import { sampleInteraction } from "@kaireon/events-testkit";
import { describe, expect, it } from "vitest";
import { parseEventBridgeEvent, safeParseEventBridgeEvent } from "../../src/index.js";

const event = createEvent("interaction.recorded.v1", sampleInteraction());
// The shape AWS documents for an event delivered to a Lambda function or an SQS queue.
const delivered = {
  version: "0",
  id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "interaction.recorded.v1",
  source: "kaireon-platform",
  account: "111122223333",
  time: "2026-03-01T12:00:00Z",
  region: "us-east-1",
  resources: [],
  detail: JSON.parse(JSON.stringify(event)),
};

describe("parseEventBridgeEvent", () => {
  it("reads a Lambda event object, an SQS body string and bytes back into the typed envelope", () => {
    for (const input of [delivered, JSON.stringify(delivered), new TextEncoder().encode(JSON.stringify(delivered))]) {
      const parsed = parseEventBridgeEvent(input);
      expect({ ...parsed }).toEqual({ ...event });
      if (parsed.type === "interaction.recorded.v1") expect(parsed.data.interactionType).toBe("impression");
    }
    const result = safeParseEventBridgeEvent(delivered);
    expect(result.ok && result.eventBridge).toMatchObject({
      id: delivered.id,
      detailType: "interaction.recorded.v1",
      account: "111122223333",
    });
  });

  it("accepts an event without `account` (moto leaves it out)", () => {
    const { account: _account, ...withoutAccount } = delivered;
    expect(parseEventBridgeEvent(withoutAccount).id).toBe(event.id);
  });

  it("reports text that is not JSON, and JSON that is not an EventBridge event, as MALFORMED_MESSAGE", () => {
    const notJson = safeParseEventBridgeEvent("{broken");
    expect(!notJson.ok && notJson.error.code).toBe("MALFORMED_MESSAGE");
    const bare = safeParseEventBridgeEvent(JSON.stringify(event)); // the envelope without the EventBridge wrapper
    expect(!bare.ok && bare.error.code).toBe("MALFORMED_MESSAGE");
    expect(!bare.ok && bare.error.message).toContain("detail");
    const sqsEvent = safeParseEventBridgeEvent({ Records: [{ body: JSON.stringify(delivered) }] });
    expect(!sqsEvent.ok && sqsEvent.error.message).toContain("r.body");
  });

  it("validates the detail with the topic schema and names the field", () => {
    const bad = { ...delivered, detail: { ...delivered.detail, data: { ...delivered.detail.data, interactionType: "view" } } };
    const result = safeParseEventBridgeEvent(bad);
    expect(!result.ok && result.error.code).toBe("VALIDATION_FAILED");
    expect(!result.ok && result.error.issues.map((i) => i.path)).toContain("detail.data.interactionType");
  });

  it("refuses a detail-type that disagrees with the envelope type", () => {
    const result = safeParseEventBridgeEvent({ ...delivered, "detail-type": "decision.made.v1" });
    expect(!result.ok && result.error.code).toBe("VALIDATION_FAILED");
    expect(() => parseEventBridgeEvent({ ...delivered, "detail-type": "decision.made.v1" })).toThrow(/detail-type/);
  });
});
