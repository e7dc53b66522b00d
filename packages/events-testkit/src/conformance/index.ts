// The backend conformance suite, one file per capability (like keyv's @keyv/test-suite): publish,
// per-key ordering, delivery, replay, the subscriber contract and faults. describeBackendConformance
// runs them all; each describe*Conformance runs one, for a backend that wants only part of it.

import { afterAll, describe } from "vitest";
import { deliveryCases } from "./delivery.js";
import { faultCases } from "./faults.js";
import { type ConformanceCapabilities, type ConformanceHarness, type ConformanceOptions, conformanceHarness } from "./harness.js";
import { orderingCases } from "./ordering.js";
import { publishCases } from "./publish.js";
import { replayCases } from "./replay.js";
import { subscriberCases } from "./subscriber.js";

export type { ConformanceCapabilities, ConformanceOptions } from "./harness.js";

type Cases = (h: ConformanceHarness) => void;

function claimed(caps: ConformanceCapabilities): string {
  const on = Object.entries(caps)
    .filter(([, v]) => v)
    .map(([k]) => k);
  return on.length ? on.join(", ") : "no optional capabilities";
}

function describeConformance(what: string, options: ConformanceOptions, cases: Cases[]): void {
  describe(`${what}: ${options.name} [${claimed(options.capabilities)}]`, () => {
    const h = conformanceHarness(options);
    afterAll(() => h.cleanup());
    for (const register of cases) register(h);
  });
}

/** The whole contract a backend's publisher and subscriber pass: every capability file below. */
export function describeBackendConformance(options: ConformanceOptions): void {
  describeConformance("backend conformance", options, [
    publishCases,
    orderingCases,
    deliveryCases,
    replayCases,
    subscriberCases,
    faultCases,
  ]);
}

/** @deprecated renamed describeBackendConformance (it tests the subscriber as much as the publisher). */
export const describePublisherConformance = describeBackendConformance;

export const describePublishConformance = (options: ConformanceOptions) =>
  describeConformance("publish conformance", options, [publishCases]);
export const describeOrderingConformance = (options: ConformanceOptions) =>
  describeConformance("ordering conformance", options, [orderingCases]);
export const describeDeliveryConformance = (options: ConformanceOptions) =>
  describeConformance("delivery conformance", options, [deliveryCases]);
export const describeReplayConformance = (options: ConformanceOptions) => describeConformance("replay conformance", options, [replayCases]);
export const describeSubscriberConformance = (options: ConformanceOptions) =>
  describeConformance("subscriber conformance", options, [subscriberCases]);
export const describeFaultConformance = (options: ConformanceOptions) => describeConformance("fault conformance", options, [faultCases]);
