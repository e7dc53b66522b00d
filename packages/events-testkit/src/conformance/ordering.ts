// Per-key order (capability `perKeyOrder`): concurrent publishes of one key arrive in publish order.

import { expect, it } from "vitest";
import { sampleDecision, uniqueTenant } from "../fixtures.js";
import { type ConformanceHarness, skip } from "./harness.js";

export function orderingCases(h: ConformanceHarness): void {
  (h.capabilities.perKeyOrder ? it : skip)("keeps per-key order for concurrent publishes", async () => {
    const tenantId = uniqueTenant();
    const { spy } = await h.subscribe(["decision.made.v1"]);
    const p = await h.publisher();
    const total = 400;
    await Promise.all(
      Array.from({ length: total }, (_, i) =>
        p.publish("decision.made.v1", sampleDecision({ tenantId, customerId: `cust-${i % 8}`, recommendationId: String(i) })),
      ),
    );
    const received = await spy.waitForCount(total, (e) => e.tenantid === tenantId, h.timeout);
    for (let k = 0; k < 8; k++) {
      const seq = received
        .filter((e) => e.subject === `cust-${k}`)
        .map((e) => Number((e.data as { recommendationId: string }).recommendationId));
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
      expect(seq).toHaveLength(total / 8);
    }
  });
}
