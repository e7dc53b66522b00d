// The topic schemas, field for field as the spec's "Topics" table lists them. Topic names are the
// contract: an incompatible change is a new topic (`.v2`); a new optional field keeps the name.
// Ids that may be absent are `null`, never missing, so consumers always see one shape.

import { z } from "zod";

const id = z.string().min(1).max(256);
const optionalId = id.nullable();
const timestamp = z.iso.datetime({ offset: true });

export const interactionTypes = ["impression", "click", "conversion", "complaint", "unsubscribe"] as const;

export const interactionRecordedV1Schema = z.strictObject({
  tenantId: id,
  customerId: id,
  offerId: id,
  creativeId: optionalId,
  channelId: id,
  interactionType: z.enum(interactionTypes),
  outcomeTypeKey: id,
  campaignId: optionalId,
  recommendationId: optionalId,
  timestamp,
});

export const decisionMadeV1Schema = z.strictObject({
  tenantId: id,
  customerId: id,
  recommendationId: id,
  offersReturned: z.number().int().min(0),
  topOfferId: optionalId,
  topPropensity: z.number().min(0).max(1).nullable(),
  decisionFlowKey: id,
  timestamp,
});

/** The topic registry: name → payload schema. `publish(topic, data)` is typed from it. */
export const topicSchemas = {
  "interaction.recorded.v1": interactionRecordedV1Schema,
  "decision.made.v1": decisionMadeV1Schema,
} as const;

export type TopicName = keyof typeof topicSchemas;
export type TopicData<T extends TopicName> = z.infer<(typeof topicSchemas)[T]>;
export type InteractionRecordedV1 = TopicData<"interaction.recorded.v1">;
export type DecisionMadeV1 = TopicData<"decision.made.v1">;
export type InteractionType = (typeof interactionTypes)[number];

export const topicNames = Object.keys(topicSchemas) as TopicName[];

export function isTopicName(value: unknown): value is TopicName {
  return typeof value === "string" && Object.hasOwn(topicSchemas, value);
}
