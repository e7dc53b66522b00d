// The CloudEvents 1.0 envelope (structured JSON mode), identical on every backend. createEvent()
// validates the payload before anything can be sent; parseEvent() is the subscriber's way back.

import { z } from "zod";
import { type CompiledTopic, lazyCompiled } from "./compiled.js";
import { ValidationError, type ValidationIssue } from "./errors.js";
import { creationTraceparent } from "./telemetry.js";
import { isTopicName, type TopicData, type TopicName, topicNames, topicSchemas } from "./topics.js";
import { toJson, trusted, ValidEnvelope } from "./trusted.js";
import { uuidv7 } from "./uuid.js";

export const DEFAULT_SOURCE = "kaireon-platform";
export const CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json";

export interface EventEnvelope<T extends TopicName = TopicName> {
  specversion: "1.0";
  /** UUIDv7, fixed at creation: a re-send carries the same id, so consumers dedupe on it. */
  id: string;
  source: string;
  type: T;
  /** RFC 3339 time the event was created. */
  time: string;
  datacontenttype: "application/json";
  /** The customerId. */
  subject: string;
  tenantid: string;
  /** `tenantId:customerId`; backends that can order use it as the key. */
  partitionkey: string;
  /**
   * W3C trace context of the event's creation (the CloudEvents distributed-tracing extension): the
   * `create <topic>` span when createEvent ran inside an active trace. Set once, never changed.
   */
  traceparent?: string;
  data: TopicData<T>;
}

/** Any event of the registry, discriminated by `type`. */
export type DomainEvent = { [K in TopicName]: EventEnvelope<K> }[TopicName];

export interface CreateEventOptions {
  /** Publishing service; default `kaireon-platform` (or EVENT_SOURCE through the loader). */
  source?: string;
  /** W3C traceparent header value: a creation context of your own (then no `create` span is made). */
  traceparent?: string;
  /** Override the id (UUIDv7). Only for re-creating a known event; normally leave it out. */
  id?: string;
  /** Override the creation time (Date or RFC 3339 string). */
  time?: Date | string;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The envelope's own `time` rule (below): a caller's time must pass it — and then needs no escaping. */
const RFC_3339 = z.iso.datetime({ offset: true });

function issuesOf(error: z.ZodError, prefix: string): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join("."),
    message: issue.message,
  }));
}

function validationError(what: string, issues: ValidationIssue[]): ValidationError {
  const list = issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ");
  return new ValidationError({ message: `[core] invalid ${what}: ${list} — fix these fields; nothing was published`, issues });
}

/**
 * Builds a validated envelope for `topic`. Throws ValidationError naming every bad field;
 * an invalid payload never becomes an event, so it can never be published.
 */
export function createEvent<T extends TopicName>(topic: T, data: TopicData<T>, options?: CreateEventOptions): EventEnvelope<T> {
  if (!isTopicName(topic)) {
    throw new ValidationError({
      code: "UNKNOWN_TOPIC",
      message: `[core] unknown topic "${String(topic)}" — use one of: ${topicNames.join(", ")}`,
      issues: [{ path: "type", message: `unknown topic, expected one of ${topicNames.join(", ")}` }],
    });
  }
  // The compiled check first; zod only when it says no, to build the error (or, should the two ever
  // disagree, to have the last word).
  const compiled = compiledTopics[topic]();
  let payload = compiled?.copy(data) as TopicData<T> | undefined;
  const writer = payload === undefined ? undefined : compiled?.write;
  if (payload === undefined) {
    const parsed = topicSchemas[topic].safeParse(data);
    if (!parsed.success) throw validationError(`${topic} payload`, issuesOf(parsed.error, "data"));
    payload = parsed.data as TopicData<T>;
  }

  let source = DEFAULT_SOURCE;
  let traceparent: string | undefined;
  let id: string | undefined;
  let timeText: string;
  // No options (the usual call): nothing to check, and one clock read serves the id and the time.
  if (options === undefined) {
    const ms = Date.now();
    id = uuidv7(ms);
    timeText = isoOf(ms);
  } else {
    ({ source = DEFAULT_SOURCE, traceparent, id } = options);
    const { time } = options;
    const bad: ValidationIssue[] = [];
    if (typeof source !== "string" || source.length === 0) bad.push({ path: "source", message: "must be a non-empty string" });
    if (traceparent !== undefined && !TRACEPARENT.test(traceparent)) {
      bad.push({ path: "traceparent", message: "must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)" });
    }
    if (id !== undefined && !UUID.test(id)) bad.push({ path: "id", message: "must be a UUID" });
    const ms = id === undefined || time === undefined ? Date.now() : 0;
    timeText = time === undefined ? isoOf(ms) : typeof time === "string" ? time : time.toISOString();
    if (time !== undefined && !RFC_3339.safeParse(timeText).success) {
      bad.push({ path: "time", message: "must be an RFC 3339 date-time (e.g. 2026-12-01T09:30:00.000Z)" });
    }
    if (bad.length > 0) throw validationError(`${topic} event options`, bad);
    id ??= uuidv7(ms);
  }

  const event = new ValidEnvelope() as unknown as EventEnvelope<T>;
  event.specversion = "1.0";
  event.id = id;
  event.source = source;
  event.type = topic;
  event.time = timeText;
  event.datacontenttype = "application/json";
  event.subject = payload.customerId;
  event.tenantid = payload.tenantId;
  const key = `${payload.tenantId}:${payload.customerId}`;
  event.partitionkey = key;
  // The caller's own creation context is kept as given; else the create span's, inside a trace.
  const creation = traceparent ?? creationTraceparent(topic, id);
  if (creation !== undefined) event.traceparent = creation;
  event.data = payload;
  if (writer) ValidEnvelope.compiledWith(event as unknown as ValidEnvelope, writer as (data: unknown) => string, payload, key);
  return event;
}

const compiledTopics = Object.fromEntries(topicNames.map((t) => [t, lazyCompiled(topicSchemas[t])])) as Record<
  TopicName,
  () => CompiledTopic | undefined
>;

// Many events are created within one millisecond under load; format that millisecond once.
let isoMs = -1;
let isoText = "";
function isoOf(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/** The wire form: the envelope as JSON (structured mode). */
export function serializeEvent(event: DomainEvent): string {
  return toJson(event);
}

// Readers accept fields they do not know (a compatible change adds optional fields), writers do not.
function envelopeSchema<T extends TopicName>(topic: T) {
  return z.looseObject({
    specversion: z.literal("1.0"),
    id: z.string().regex(UUID, "must be a UUID"),
    source: z.string().min(1),
    type: z.literal(topic),
    time: z.iso.datetime({ offset: true }),
    datacontenttype: z.literal("application/json").optional().default("application/json"),
    subject: z.string().min(1),
    tenantid: z.string().min(1),
    partitionkey: z.string().min(1),
    traceparent: z.string().regex(TRACEPARENT).optional(),
    data: topicSchemas[topic].loose(),
  });
}

export const eventSchemas = {
  "interaction.recorded.v1": envelopeSchema("interaction.recorded.v1"),
  "decision.made.v1": envelopeSchema("decision.made.v1"),
} as const satisfies { [K in TopicName]: unknown };

export type SafeParseEventResult = { ok: true; event: DomainEvent } | { ok: false; error: ValidationError };

/** Parses a received message (JSON text, bytes or an already-decoded object) without throwing. */
export function safeParseEvent(input: unknown): SafeParseEventResult {
  let value: unknown = input;
  if (typeof input === "string" || input instanceof Uint8Array) {
    const text = typeof input === "string" ? input : Buffer.from(input).toString("utf8");
    try {
      value = JSON.parse(text);
    } catch (cause) {
      return {
        ok: false,
        error: new ValidationError({
          code: "MALFORMED_MESSAGE",
          message: `[core] message is not JSON: ${(cause as Error).message}`,
          issues: [{ path: "", message: "not JSON" }],
          cause,
        }),
      };
    }
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (!isTopicName(type)) {
    return {
      ok: false,
      error: new ValidationError({
        code: "UNKNOWN_TOPIC",
        message: `[core] invalid event: type: ${JSON.stringify(type)} is not a known topic (${topicNames.join(", ")})`,
        issues: [{ path: "type", message: "unknown topic" }],
      }),
    };
  }
  const parsed = eventSchemas[type].safeParse(value);
  if (!parsed.success) return { ok: false, error: validationError(`${type} event`, issuesOf(parsed.error, "")) };
  return { ok: true, event: trusted(parsed.data as DomainEvent) };
}

/** Parses a received message into a typed event; throws ValidationError naming the bad fields. */
export function parseEvent(input: unknown): DomainEvent {
  const result = safeParseEvent(input);
  if (!result.ok) throw result.error;
  return result.event;
}
