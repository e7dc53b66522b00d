// Delivery: a closed subscription receives nothing more; a malformed message (written with the
// backend's raw client, when the test gives `injectRaw`) is reported with its raw text and the
// subscription goes on.

import { expect, it } from "vitest";
import { sampleDecision, uniqueTenant } from "../fixtures.js";
import { type ConformanceHarness, skip } from "./harness.js";

export function deliveryCases(h: ConformanceHarness): void {
  it("a closed subscription receives nothing more, and close is idempotent", async () => {
    const tenantId = uniqueTenant();
    const closed = await h.subscribe(["decision.made.v1"]);
    const p = await h.publisher();
    const first = await p.publish("decision.made.v1", sampleDecision({ tenantId }));
    await closed.spy.waitFor("decision.made.v1", (e) => e.id === first.id, h.timeout);
    // A second subscription that stays open sees what is published after the close: once it has
    // the event, the closed one had every chance to receive it too (on a queue shared by both it
    // would have taken it instead). No fixed sleep, so slow backends cannot pass by luck.
    const open = await h.subscribe(["decision.made.v1"]);
    await Promise.all([closed.subscription.close(), closed.subscription.close()]);
    await closed.subscription.close();
    const after = await p.publish("decision.made.v1", sampleDecision({ tenantId }));
    await open.spy.waitFor("decision.made.v1", (e) => e.id === after.id, h.timeout);
    expect(closed.spy.events.filter((e) => e.tenantid === tenantId).map((e) => e.id)).toEqual([first.id]);
  });

  (h.options.injectRaw ? it : skip)("reports a malformed message with its raw text and keeps going", async () => {
    const tenantId = uniqueTenant();
    const { spy } = await h.subscribe(["decision.made.v1"]);
    await h.options.injectRaw?.("decision.made.v1", `{"not":"an event","tenant":"${tenantId}"}`);
    await h.options.injectRaw?.("decision.made.v1", "{broken json");
    const p = await h.publisher();
    const after = await p.publish("decision.made.v1", sampleDecision({ tenantId }));
    await spy.waitFor("decision.made.v1", (e) => e.id === after.id, h.timeout);
    const errors = await spy.waitForErrors(2, h.timeout);
    const raws = errors.map((e) => e.raw);
    expect(raws).toContain("{broken json");
    expect(errors.map((e) => e.error.code)).toEqual(expect.arrayContaining(["MALFORMED_MESSAGE"]));
  });
}
