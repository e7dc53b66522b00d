import type { DecisionMadeV1, InteractionRecordedV1 } from "../src/index.js";

export function interaction(overrides: Partial<InteractionRecordedV1> = {}): InteractionRecordedV1 {
  return {
    tenantId: "tenant-1",
    customerId: "cust-42",
    offerId: "offer-7",
    creativeId: null,
    channelId: "email",
    interactionType: "click",
    outcomeTypeKey: "clicked",
    campaignId: "spring-sale",
    recommendationId: null,
    timestamp: "2026-11-27T10:00:00.000Z",
    ...overrides,
  };
}

export function decision(overrides: Partial<DecisionMadeV1> = {}): DecisionMadeV1 {
  return {
    tenantId: "tenant-1",
    customerId: "cust-42",
    recommendationId: "rec-1",
    offersReturned: 3,
    topOfferId: "offer-7",
    topPropensity: 0.42,
    decisionFlowKey: "default-flow",
    timestamp: "2026-11-27T10:00:00.000Z",
    ...overrides,
  };
}
