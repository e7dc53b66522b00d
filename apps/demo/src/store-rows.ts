// What both stores share: reading a row of interaction_history back into the API/event shape.

import type { InteractionRow } from "./store.js";

/** Maps a row of interaction_history (snake_case, either database) back to the API/event shape. */
export function interactionFromRow(r: Record<string, unknown>): InteractionRow {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const occurred = r.occurred_at instanceof Date ? r.occurred_at.toISOString() : String(r.occurred_at);
  return {
    interactionId: String(r.interaction_id),
    tenantId: String(r.tenant_id),
    customerId: String(r.customer_id),
    offerId: String(r.offer_id),
    creativeId: text(r.creative_id),
    channelId: String(r.channel_id),
    interactionType: String(r.interaction_type) as InteractionRow["interactionType"],
    outcomeTypeKey: String(r.outcome_type_key),
    campaignId: text(r.campaign_id),
    recommendationId: text(r.recommendation_id),
    timestamp: occurred,
    eventId: text(r.event_id),
  };
}
