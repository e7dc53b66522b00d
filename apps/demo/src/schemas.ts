// Request bodies of the API. Strict objects: a misspelt field is a 400 naming it, not a silently
// ignored value. Field rules match the topic schemas in core, so a valid body always makes a valid event.

import { interactionTypes } from "@kaireon/events-core";
import { z } from "zod";

const id = z.string().trim().min(1).max(256);
const optionalId = id.nullable().optional();
// The ISO format check alone lets "2024-02-31T00:00:00Z" through; a date that does not exist is a 400 too.
const timestamp = z.iso.datetime({ offset: true }).refine((v) => !Number.isNaN(Date.parse(v)), "must be a real date and time");

export const respondBodySchema = z.strictObject({
  tenantId: id,
  customerId: id,
  offerId: id,
  creativeId: optionalId,
  channelId: id,
  interactionType: z.enum(interactionTypes),
  /** The outcome as the platform names it; defaults to the interaction type. */
  outcomeTypeKey: id.optional(),
  campaignId: optionalId,
  recommendationId: optionalId,
  /** When it happened (default: now). */
  timestamp: timestamp.optional(),
});
export type RespondBody = z.infer<typeof respondBodySchema>;

export const recommendBodySchema = z.strictObject({
  tenantId: id,
  customerId: id,
  channelId: id.optional(),
  decisionFlowKey: id.optional(),
  /** How many offers to return. */
  limit: z.number().int().min(1).max(10).optional(),
});
export type RecommendBody = z.infer<typeof recommendBodySchema>;

const propertyValue = z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]);

export const behaviourEventBodySchema = z.strictObject({
  tenantId: id,
  customerId: id,
  /** What the customer did: `page_view`, `add_to_cart`, `search`… */
  eventType: z
    .string()
    .trim()
    .regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lower-case name like page_view"),
  properties: z
    .record(z.string().max(128), propertyValue)
    .refine((p) => Object.keys(p).length <= 50, "at most 50 properties")
    .optional(),
  occurredAt: timestamp.optional(),
});
export type BehaviourEventBody = z.infer<typeof behaviourEventBodySchema>;
