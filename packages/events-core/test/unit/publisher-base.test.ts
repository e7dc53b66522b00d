// The publisher shell every backend extends: a backend's synchronous throw (a bug, a TypeError on an
// odd event) is that one event's rejection — never a throw out of publish(), never the whole batch.
import { describe, expect, it } from "vitest";
import { createEvent, type DomainEvent } from "../../src/envelope.js";
import { silentLogger } from "../../src/logger.js";
import type { ReadinessReport } from "../../src/ports.js";
import { type Delivery, PublisherBase } from "../../src/publisher-base.js";
import { decision } from "../fixtures.js";

class Fragile extends PublisherBase {
  constructor() {
    super({ backend: "fragile", logger: silentLogger });
  }
  protected deliver(event: DomainEvent): Promise<Delivery> {
    if (event.type === "decision.made.v1" && event.data.recommendationId === "bad") throw new TypeError("backend bug");
    return Promise.resolve({ position: event.id });
  }
  ready(): Promise<ReadinessReport> {
    return Promise.resolve({ ready: true, backend: this.backend });
  }
}

describe("PublisherBase", () => {
  it("a synchronous throw of deliver() rejects that publish; publish() itself never throws", async () => {
    const p = new Fragile();
    let returned: Promise<unknown> | undefined;
    expect(() => {
      returned = p.publish("decision.made.v1", decision({ recommendationId: "bad" }));
    }).not.toThrow();
    await expect(returned).rejects.toMatchObject({ code: "PUBLISH_FAILED", message: "[fragile] publish failed: backend bug" });
    expect(p.metrics()).toMatchObject({ failed: 1, failures: { PUBLISH_FAILED: 1 } });
  });

  it("a synchronous throw on one event of a batch fails that event alone", async () => {
    const p = new Fragile();
    const events = ["a", "bad", "c"].map((id) => createEvent("decision.made.v1", decision({ recommendationId: id })));
    const results = await p.publishBatch(events);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(p.metrics()).toMatchObject({ published: 2, failed: 1 });
  });
});
