// What the routes need from the database, whichever one it is. Each write that makes an event does
// the row and the event's outbox entry in ONE transaction (sqlite-store.ts, postgres-store.ts): a
// rolled-back row never publishes, a committed row is never lost even if the broker is down.

import type { DecisionMadeV1, DomainEvent, InteractionRecordedV1 } from "@kaireon/events-core";
import type { RankedOffer } from "./ranking.js";
import type { BehaviourEventBody } from "./schemas.js";

/** A row of interaction history; its fields are exactly the event's payload plus the row's own ids. */
export interface InteractionRow extends InteractionRecordedV1 {
  interactionId: string;
  /** The id of the interaction.recorded.v1 event, or null when events are disabled. */
  eventId: string | null;
}

export interface DecisionRow extends DecisionMadeV1 {
  offers: RankedOffer[];
  eventId: string | null;
}

export interface BehaviourEventRow {
  eventId: string;
  tenantId: string;
  customerId: string;
  eventType: string;
  properties: Record<string, unknown>;
  occurredAt: string;
  receivedAt: string;
}

export interface StoreCounts {
  interactions: number;
  decisions: number;
  behaviourEvents: number;
  /** Rows in the outbox, whatever their state. */
  outbox: number;
}

export interface DemoStore {
  readonly kind: "sqlite" | "postgres";
  /** Where it is, without credentials (for the start-up line). */
  readonly location: string;
  /** Inserts the interaction and, unless `event` is null, its event into the outbox, in one transaction. */
  recordInteraction(row: Omit<InteractionRow, "eventId">, event: DomainEvent | null): Promise<InteractionRow>;
  /** Inserts the decision and, unless `event` is null, decision.made.v1 into the outbox, in one transaction. */
  recordDecision(row: Omit<DecisionRow, "eventId">, event: DomainEvent | null): Promise<DecisionRow>;
  /** The inbound ingestion endpoint's table: stored only, never fed to the stream. */
  recordBehaviourEvent(
    body: Required<Pick<BehaviourEventBody, "tenantId" | "customerId" | "eventType">> & BehaviourEventRowInput,
  ): Promise<BehaviourEventRow>;
  getInteraction(interactionId: string): Promise<InteractionRow | undefined>;
  counts(): Promise<StoreCounts>;
  close(): Promise<void>;
}

export interface BehaviourEventRowInput {
  eventId: string;
  properties: Record<string, unknown>;
  occurredAt: string;
  receivedAt: string;
}
