// Events built by createEvent() or read by parseEvent() are instances of this class: already
// valid, so publishers skip re-validating them, and their JSON is computed once and cached (an
// outbox or a retry serialises the same event more than once). Envelopes are treated as
// immutable: a copy (spread, structuredClone) is a plain object again and is validated before it
// is published, so nothing invalid is ever sent.

import { lastWrite, needsEscape } from "./compiled.js";
import type { DomainEvent } from "./envelope.js";

const q = JSON.stringify;
/** The last source found plain: one service publishes with one source. */
let plainSource = "";

function isPlainSource(source: string): boolean {
  if (source === plainSource) return true;
  if (needsEscape(source)) return false;
  plainSource = source;
  return true;
}

/**
 * The text, flat. A concatenation is a tree (a rope) of its pieces — some sixty for an event, 1.8 kB
 * for a 500-byte text — that V8 flattens only when something first reads it as a whole, such as the
 * socket write; until then the tree is what an event waiting for its batch holds, copied by every
 * young-generation collection and promoted with the event. startsWith() flattens its receiver in
 * place (V8 12–13: Node 22 and 24; the heap-per-event test fails if it stops doing so), and the
 * concatenation plus that one copy costs less than building the pieces in an array and joining them.
 */
function flatten(text: string): string {
  text.startsWith("{");
  return text;
}

export class ValidEnvelope {
  #json: string | undefined;
  /** Writes `data` when createEvent built it with the topic's compiled copier (a known, fixed shape). */
  #writeData: ((data: unknown) => string) | undefined;
  /** The partitionkey createEvent made, and the tenantId and customerId it made it from (see compiledWith). */
  #key: string | undefined;
  #keyTenant: unknown;
  #keyCustomer: unknown;
  /** The payload object createEvent made: `#writeData` writes that object, not one put in its place. */
  #data: unknown;

  static is(value: unknown): value is ValidEnvelope {
    return typeof value === "object" && value !== null && #json in value;
  }

  static keep(value: ValidEnvelope, json: string): void {
    value.#json = json;
  }

  /**
   * createEvent built this envelope: `write` writes `data`, its payload; `key` is the partitionkey it
   * made as `tenantId:customerId` of that payload (plain when those two are). Their strings are kept
   * now: the payload may be changed later, the key stays.
   */
  static compiledWith(
    value: ValidEnvelope,
    write: (data: unknown) => string,
    data: { tenantId: unknown; customerId: unknown },
    key: string,
  ): void {
    value.#writeData = write;
    value.#data = data;
    value.#key = key;
    value.#keyTenant = data.tenantId;
    value.#keyCustomer = data.customerId;
  }

  static json(value: ValidEnvelope): string {
    if (value.#json === undefined) {
      const e = value as unknown as DomainEvent;
      const { id, source, type, time, subject, tenantid, partitionkey, traceparent, data: d } = e;
      // Same text and field order as JSON.stringify(e), about a third of its cost: the attributes we
      // generate (id, type, time, traceparent) never need escaping, the four others are tested for it
      // (usually nothing to escape: plain quotes), the data goes through the topic's writer while it is
      // the object createEvent made. An envelope changed into another shape (a field of another type,
      // data replaced by null, keys added or removed) is written by JSON.stringify.
      if (
        e.specversion === "1.0" &&
        typeof id === "string" &&
        typeof source === "string" &&
        typeof type === "string" &&
        typeof time === "string" &&
        e.datacontenttype === "application/json" &&
        typeof subject === "string" &&
        typeof tenantid === "string" &&
        typeof partitionkey === "string" &&
        (traceparent === undefined || typeof traceparent === "string") &&
        typeof d === "object" &&
        d !== null &&
        Object.keys(e).length === (traceparent === undefined ? 10 : 11)
      ) {
        const write = d === value.#data ? value.#writeData : undefined;
        const data = write ? write(d) : q(d);
        // What the writer scanned, read before anything else can run: when the payload was plain, the
        // envelope's copies of its tenantId and customerId need no scan of their own while they equal
        // them, nor the partitionkey while it is still the one createEvent made from two equal strings.
        const known = write !== undefined && lastWrite.plain;
        const tenantSeen = known ? lastWrite.tenantId : undefined;
        const customerSeen = known ? lastWrite.customerId : undefined;
        const plain =
          isPlainSource(source) &&
          !(
            (subject !== customerSeen && needsEscape(subject)) ||
            (tenantid !== tenantSeen && needsEscape(tenantid)) ||
            ((partitionkey !== value.#key || value.#keyTenant !== tenantSeen || value.#keyCustomer !== customerSeen) &&
              needsEscape(partitionkey))
          );
        value.#json = flatten(
          `{"specversion":"1.0","id":"${id}","source":${plain ? `"${source}"` : q(source)},"type":"${type}","time":"${time}",` +
            `"datacontenttype":"application/json","subject":${plain ? `"${subject}"` : q(subject)},"tenantid":${plain ? `"${tenantid}"` : q(tenantid)},` +
            `"partitionkey":${plain ? `"${partitionkey}"` : q(partitionkey)},${traceparent === undefined ? "" : `"traceparent":"${traceparent}",`}"data":${data}}`,
        );
      } else value.#json = q(value);
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
