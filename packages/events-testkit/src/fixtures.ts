// Valid sample payloads for tests; pass overrides for the fields a test cares about.
import type { DecisionMadeV1, InteractionRecordedV1 } from "@kaireon/events-core";
import { uniqueName } from "./helpers.js";

export function sampleInteraction(overrides: Partial<InteractionRecordedV1> = {}): InteractionRecordedV1 {
  return {
    tenantId: "tenant-1",
    customerId: "cust-1",
    offerId: "offer-1",
    creativeId: null,
    channelId: "email",
    interactionType: "impression",
    outcomeTypeKey: "impressed",
    campaignId: null,
    recommendationId: null,
    timestamp: new Date().toISOString(),
    ...overrides,
  };
}

export function sampleDecision(overrides: Partial<DecisionMadeV1> = {}): DecisionMadeV1 {
  return {
    tenantId: "tenant-1",
    customerId: "cust-1",
    recommendationId: "rec-1",
    offersReturned: 3,
    topOfferId: "offer-1",
    topPropensity: 0.5,
    decisionFlowKey: "default-flow",
    timestamp: new Date().toISOString(),
    ...overrides,
  };
}

/** A tenant id no other test run uses, so tests on a shared, persistent broker see only their own events. */
export function uniqueTenant(prefix = "t"): string {
  return uniqueName(prefix);
}
