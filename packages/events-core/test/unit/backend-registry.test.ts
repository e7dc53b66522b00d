import { describe, expect, expectTypeOf, it } from "vitest";
import { backendRegistry } from "../../src/backend-registry.js";
import { backendPackages, eventPublisherValues } from "../../src/index.js";

describe("the backend registry", () => {
  it("is where EVENT_PUBLISHER's values come from: each id, then its aliases, then memory", () => {
    expect(Object.entries(eventPublisherValues)).toEqual([
      ["redis", "redis"],
      ["kafka", "kafka"],
      ["redpanda", "kafka"],
      ["msk", "msk"],
      ["aws_msk", "msk"],
      ["eventbridge", "eventbridge"],
      ["kinesis", "kinesis"],
      ["memory", "memory"],
    ]);
    expectTypeOf(eventPublisherValues.redpanda).toEqualTypeOf<"kafka">();
    expectTypeOf(eventPublisherValues.memory).toEqualTypeOf<"memory">();
  });

  it("names each backend's package", () => {
    expect(backendPackages).toEqual({
      redis: "@kaireon/events-redis",
      kafka: "@kaireon/events-kafka",
      msk: "@kaireon/events-msk",
      eventbridge: "@kaireon/events-eventbridge",
      kinesis: "@kaireon/events-kinesis",
    });
    expectTypeOf(backendPackages.kafka).toEqualTypeOf<"@kaireon/events-kafka">();
  });

  it("has an importer per backend that imports that backend's own package (the literal import() bundlers need)", () => {
    for (const [id, entry] of Object.entries(backendRegistry)) expect(entry.load.toString(), id).toContain(`"${entry.packageName}"`);
  });
});
