// Events built by createEvent() or read by parseEvent() are instances of this class: already
// valid, so publishers skip re-validating them, and their JSON is computed once and cached (an
// outbox or a retry serialises the same event more than once). Envelopes are treated as
// immutable: a copy (spread, structuredClone) is a plain object again and is validated before it
// is published, so nothing invalid is ever sent.

import type { DomainEvent } from "./envelope.js";

const q = JSON.stringify;

export class ValidEnvelope {
  #json: string | undefined;
  /** Writes `data` when createEvent built it with the topic's compiled copier (a known, fixed shape). */
  #writeData: ((data: unknown) => string) | undefined;

  static is(value: unknown): value is ValidEnvelope {
    return typeof value === "object" && value !== null && #json in value;
  }

  static keep(value: ValidEnvelope, json: string): void {
    value.#json = json;
  }

  static writeDataWith(value: ValidEnvelope, write: (data: unknown) => string): void {
    value.#writeData = write;
  }

  static json(value: ValidEnvelope): string {
    if (value.#json === undefined) {
      const e = value as unknown as DomainEvent;
      // Same text and field order as JSON.stringify(e), about a third cheaper: the attributes we
      // generate (id, type, time) never need escaping; the data object goes through JSON.stringify.
      value.#json =
        e.specversion === "1.0" && Object.keys(e).length === (e.traceparent === undefined ? 10 : 11)
          ? `{"specversion":"1.0","id":"${e.id}","source":${q(e.source)},"type":"${e.type}","time":"${e.time}","datacontenttype":"application/json","subject":${q(e.subject)},"tenantid":${q(e.tenantid)},"partitionkey":${q(e.partitionkey)},${e.traceparent === undefined ? "" : `"traceparent":"${e.traceparent}",`}"data":${value.#writeData ? value.#writeData(e.data) : q(e.data)}}`
          : q(value);
    }
    return value.#json;
  }
}

/**
 * Copies the fields (in order) into a trusted envelope. `json`: the text the fields were parsed from
 * (an event this library validated and serialised earlier, e.g. an outbox row), kept as its wire form.
 */
export function trusted<E extends DomainEvent>(fields: E, json?: string): E {
  const envelope = Object.assign(new ValidEnvelope(), fields);
  if (json !== undefined) ValidEnvelope.keep(envelope, json);
  return envelope as unknown as E;
}

export function isTrusted(event: unknown): boolean {
  return ValidEnvelope.is(event);
}

/** JSON text of an event; cached for trusted envelopes. */
export function toJson(event: DomainEvent): string {
  return ValidEnvelope.is(event) ? ValidEnvelope.json(event) : JSON.stringify(event);
}
