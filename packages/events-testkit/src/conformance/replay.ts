// Replay (capabilities `replay` and `replayFromTime`): a new subscriber reads from the earliest
// event, or exactly the events at or after a time.

import { expect, it } from "vitest";
import { sampleDecision, uniqueTenant } from "../fixtures.js";
import { type ConformanceHarness, skip } from "./harness.js";

export function replayCases(h: ConformanceHarness): void {
  (h.capabilities.replay ? it : skip)("replays from earliest for a new subscriber", async () => {
    const tenantId = uniqueTenant();
    const p = await h.publisher();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: `r${i}` }))).id);
    await p.flush();
    const { spy } = await h.subscribe(["decision.made.v1"], { from: "earliest" });
    const received = await spy.waitForCount(5, (e) => e.tenantid === tenantId, h.timeout * 2);
    expect(received.map((e) => e.id)).toEqual(ids);
  });

  (h.capabilities.replayFromTime ? it : skip)("replays from a time: exactly the events at or after it", async () => {
    const tenantId = uniqueTenant();
    const p = await h.publisher();
    await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: "before" }));
    await new Promise((r) => setTimeout(r, 1100));
    const since = new Date();
    const after: string[] = [];
    for (let i = 0; i < 3; i++)
      after.push((await p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: `after-${i}` }))).id);
    const { spy } = await h.subscribe(["decision.made.v1"], { from: since });
    await spy.waitForCount(3, (e) => e.tenantid === tenantId, h.timeout * 2);
    await new Promise((r) => setTimeout(r, 500));
    expect(spy.events.filter((e) => e.tenantid === tenantId).map((e) => e.id)).toEqual(after);
  });
}
