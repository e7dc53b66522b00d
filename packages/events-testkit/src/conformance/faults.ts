// Faults (with `createUnreachablePublisher`): a broker where nothing listens gives a coded error,
// ready() says not ready, and the failure is counted.

import { EventsError, type Publisher } from "@kaireon/events-core";
import { expect, it } from "vitest";
import { sampleDecision } from "../fixtures.js";
import { type ConformanceHarness, skip } from "./harness.js";

export function faultCases(h: ConformanceHarness): void {
  (h.options.createUnreachablePublisher ? it : skip)(
    "fails with a coded error when the broker is unreachable",
    async () => {
      const p = (await h.options.createUnreachablePublisher?.()) as Publisher;
      try {
        const error = await p.publish("decision.made.v1", sampleDecision()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(EventsError.isInstance(error), `expected an EventsError, got ${String(error)}`).toBe(true);
        expect(["CONNECTION_FAILED", "PUBLISH_TIMEOUT", "PUBLISH_FAILED", "AUTH_FAILED"]).toContain((error as EventsError).code);
        expect((await p.ready()).ready).toBe(false);
        expect(p.metrics().failed).toBeGreaterThanOrEqual(1);
      } finally {
        await p.close();
      }
    },
    60_000,
  );
}
