// What enqueue stores for an event, the same for every store: the validated envelope JSON plus the
// columns the relay selects on. Validation happens here, in the caller's transaction, so an invalid
// event fails the caller's write instead of failing later in the relay.

import { ConfigError, type DomainEvent, isTrusted, parseEvent, serializeEvent, topicNames, trusted } from "@kaireon/events-core";
import type { EventOrEvents } from "./outbox-store.js";

export interface NewRow {
  eventId: string;
  topic: string;
  partitionKey: string;
  payload: string;
}

export function toRows(events: EventOrEvents): NewRow[] {
  const list = Array.isArray(events) ? (events as readonly DomainEvent[]) : [events as DomainEvent];
  return list.map((event) => {
    // createEvent() output is already valid; anything else (a copy, a plain object) is checked now.
    const valid = isTrusted(event) ? event : parseEvent(event);
    return { eventId: valid.id, topic: valid.type, partitionKey: valid.partitionkey, payload: serializeEvent(valid) };
  });
}

const TOPICS: ReadonlySet<string> = new Set(topicNames);

/**
 * The envelope attributes a backend routes on (topic, key, source, id) have the right types. Rows
 * were validated at enqueue, so this is only a guard against rows edited or written by hand: a few
 * property reads instead of a second schema pass, so the relay's fast path stays fast.
 */
function looksLikeEnvelope(value: unknown): value is DomainEvent {
  if (typeof value !== "object" || value === null) return false;
  const e = value as Record<string, unknown>;
  return (
    e.specversion === "1.0" &&
    typeof e.id === "string" &&
    typeof e.source === "string" &&
    typeof e.type === "string" &&
    TOPICS.has(e.type) &&
    typeof e.time === "string" &&
    e.datacontenttype === "application/json" &&
    typeof e.subject === "string" &&
    typeof e.tenantid === "string" &&
    typeof e.partitionkey === "string" &&
    (e.traceparent === undefined || typeof e.traceparent === "string") &&
    typeof e.data === "object" &&
    e.data !== null
  );
}

/**
 * Turns a stored row back into an event. A well-formed row skips a second schema pass (it was
 * validated at enqueue) and its stored text is kept as the event's wire form, so the publisher sends
 * it without serialising again. Anything else gets the full schema check: it throws ValidationError
 * (the relay parks that row alone as dead) or returns the event the schema accepts.
 */
export function fromPayload(payload: string): DomainEvent {
  const parsed: unknown = JSON.parse(payload);
  return looksLikeEnvelope(parsed) ? trusted(parsed, payload) : parseEvent(parsed);
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,50}$/;

export function checkTableName(store: string, table: string): string {
  if (!IDENTIFIER.test(table)) {
    throw new ConfigError({
      backend: "outbox",
      message: `[outbox] ${store} option "table" is "${table}" — use lower-case letters, digits and _ (at most 51 characters), e.g. kaireon_outbox`,
    });
  }
  return table;
}

/** Calls every listener, never letting one listener's error reach the enqueuing caller. */
export class EnqueueListeners {
  private readonly listeners = new Set<() => void>();
  add(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A wake-up hint only; the relay also polls.
      }
    }
  }
}
