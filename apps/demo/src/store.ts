// What the routes need from the database, whichever one it is (the persistence port: rows, never
// HTTP bodies). Each write that makes an event does the row and the event's outbox entry in ONE
// transaction, through the store's own outbox (sqlite-store.ts, postgres-store.ts): a rolled-back row
// never publishes, a committed row is never lost even if the broker is down.

import type { DecisionMadeV1, DomainEvent, InteractionRecordedV1 } from "@kaireon/events-core";
import type { RankedOffer } from "./ranking.js";

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
  /** Events in the outbox not yet delivered: pending (also waiting for a retry) or dead — the outbox's stats(). */
  outbox: number;
}

export interface RelayCursorSource {
  pending(): number | undefined;
  committed(seq: number): void;
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
  recordBehaviourEvent(row: BehaviourEventRow): Promise<BehaviourEventRow>;
  getInteraction(interactionId: string): Promise<InteractionRow | undefined>;
  counts(): Promise<StoreCounts>;
  /**
   * SQLite: moves the outbox relay's cursor to `seq` in the store's next group commit (the relay
   * thread's cursorWriter — see relay-thread.ts). Absent on PostgreSQL, where a relay writes its own rows.
   */
  advanceOutboxCursor?(seq: number): Promise<void>;
  /**
   * SQLite: every group commit also writes `source.pending()` as the outbox cursor, when there is
   * one, and reports it with `source.committed(seq)` (a relay thread's cursor, without a message per batch).
   */
  followRelayCursor?(source: RelayCursorSource): void;
  close(): Promise<void>;
}
