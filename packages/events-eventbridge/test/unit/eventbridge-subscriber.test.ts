import { silentLogger } from "@kaireon/events-core";
import { describe, expect, it } from "vitest";
import { createEventBridgeSubscriber, eventPatternFor, ruleNameFor, sqsClientConfig } from "../../src/index.js";

describe("EventBridgeSubscriber configuration", () => {
  it("needs EVENTBRIDGE_QUEUE_URL and says where it comes from", async () => {
    const subscriber = createEventBridgeSubscriber({ region: "us-east-1", logger: silentLogger });
    await expect(subscriber.subscribe(["decision.made.v1"], () => {})).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("EVENTBRIDGE_QUEUE_URL"),
    });
    await subscriber.close();
  });

  it("refuses replay from a time: EventBridge keeps no history (archives aside)", async () => {
    const subscriber = createEventBridgeSubscriber({ region: "us-east-1", queueUrl: "http://127.0.0.1:9/1/q", logger: silentLogger });
    await expect(subscriber.subscribe(["decision.made.v1"], () => {}, { from: new Date() })).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("archive"),
    });
    await subscriber.close();
    await subscriber.close();
    await expect(subscriber.subscribe(["decision.made.v1"], () => {})).rejects.toMatchObject({ code: "SUBSCRIBER_CLOSED" });
  });

  it("the SQS client gets EVENTBRIDGE_REQUEST_TIMEOUT_MS as a request timeout that throws (default 5000)", () => {
    expect(sqsClientConfig({ region: "us-east-1", sqsEndpoint: undefined }).requestHandler).toEqual({
      connectionTimeout: 3_000,
      requestTimeout: 5_000,
      throwOnRequestTimeout: true,
    });
    expect(sqsClientConfig({ region: "us-east-1", sqsEndpoint: undefined, requestTimeoutMs: 800 }).requestHandler).toMatchObject({
      connectionTimeout: 800,
      requestTimeout: 800,
    });
  });

  it("builds one rule per topic matching its detail-type", () => {
    expect(eventPatternFor("interaction.recorded.v1")).toEqual({ "detail-type": ["interaction.recorded.v1"] });
    expect(eventPatternFor("decision.made.v1", "kaireon-platform")).toEqual({
      source: ["kaireon-platform"],
      "detail-type": ["decision.made.v1"],
    });
    expect(ruleNameFor("analytics", "decision.made.v1")).toBe("analytics-decision-made-v1");
  });
});
