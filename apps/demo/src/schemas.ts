// Request bodies of the API, derived from core's topic schemas: a field that becomes part of an event
// keeps the topic's own rule (length, enum, nullability, date format), so a valid body always makes a
// valid event and the rules live in one place. HTTP adds only what a request needs: ids are trimmed
// first (a blank id is a 400), fields the server can fill in are optional, a date must exist, and
// the bodies stay strict (a misspelt field is a 400 naming it, not a silently ignored value).

import { decisionMadeV1Schema, interactionRecordedV1Schema } from "@kaireon/events-core";
import { z } from "zod";

const trimmed = <S extends z.ZodType>(rule: S) => z.preprocess((v) => (typeof v === "string" ? v.trim() : v), rule);
const interaction = interactionRecordedV1Schema.shape;
const decision = decisionMadeV1Schema.shape;
// The ISO format check alone lets "2024-02-31T00:00:00Z" through; a date that does not exist is a 400 too.
const existingTime = interaction.timestamp.refine((v) => !Number.isNaN(Date.parse(v)), "must be a real date and time");

export const respondBodySchema = interactionRecordedV1Schema.extend({
  tenantId: trimmed(interaction.tenantId),
  customerId: trimmed(interaction.customerId),
  offerId: trimmed(interaction.offerId),
  creativeId: trimmed(interaction.creativeId).optional(),
  channelId: trimmed(interaction.channelId),
  /** The outcome as the platform names it; defaults to the interaction type. */
  outcomeTypeKey: trimmed(interaction.outcomeTypeKey).optional(),
  campaignId: trimmed(interaction.campaignId).optional(),
  recommendationId: trimmed(interaction.recommendationId).optional(),
  /** When it happened (default: now). */
  timestamp: existingTime.optional(),
});
export type RespondBody = z.infer<typeof respondBodySchema>;

export const recommendBodySchema = decisionMadeV1Schema.pick({ tenantId: true, customerId: true, decisionFlowKey: true }).extend({
  tenantId: trimmed(decision.tenantId),
  customerId: trimmed(decision.customerId),
  decisionFlowKey: trimmed(decision.decisionFlowKey).optional(),
  channelId: trimmed(interaction.channelId).optional(),
  /** How many offers to return (HTTP only: not part of any event). */
  limit: z.number().int().min(1).max(10).optional(),
});
export type RecommendBody = z.infer<typeof recommendBodySchema>;

// Behaviour events are stored, never published: only the tenant and customer follow a topic's rule.
const propertyValue = z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]);

export const behaviourEventBodySchema = interactionRecordedV1Schema.pick({ tenantId: true, customerId: true }).extend({
  tenantId: trimmed(interaction.tenantId),
  customerId: trimmed(interaction.customerId),
  /** What the customer did: `page_view`, `add_to_cart`, `search`… */
  eventType: z
    .string()
    .trim()
    .regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lower-case name like page_view"),
  properties: z
    .record(z.string().max(128), propertyValue)
    .refine((p) => Object.keys(p).length <= 50, "at most 50 properties")
    .optional(),
  occurredAt: existingTime.optional(),
});
export type BehaviourEventBody = z.infer<typeof behaviourEventBodySchema>;
