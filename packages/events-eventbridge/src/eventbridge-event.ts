// EventBridge pushes to targets; a target gets the EventBridge event (a Lambda's `event` argument,
// or the body of an SQS message a rule delivered). This turns it back into our typed envelope:
// `detail` is the envelope we published, `detail-type` must agree with its type.

import { type DomainEvent, safeParseEvent, ValidationError } from "@kaireon/events-core/backend";
import { z } from "zod";

/** The EventBridge event fields we keep beside the envelope. `account` is optional: some emulators leave it out. */
export interface EventBridgeEventMeta {
  /** EventBridge's own id (what PutEvents returned as EventId), not the envelope id. */
  id: string;
  detailType: string;
  source: string;
  time: string | undefined;
  region: string | undefined;
  account: string | undefined;
  resources: string[];
}

export type SafeParseEventBridgeResult =
  | { ok: true; event: DomainEvent; eventBridge: EventBridgeEventMeta }
  | { ok: false; error: ValidationError };

const eventBridgeEventSchema = z.looseObject({
  version: z.string().optional(),
  id: z.string().min(1),
  "detail-type": z.string().min(1),
  source: z.string().min(1),
  account: z.string().optional(),
  time: z.string().optional(),
  region: z.string().optional(),
  resources: z.array(z.string()).optional(),
  detail: z.record(z.string(), z.unknown()),
});

function invalid(
  message: string,
  path: string,
  code: "MALFORMED_MESSAGE" | "VALIDATION_FAILED",
  cause?: unknown,
): { ok: false; error: ValidationError } {
  return {
    ok: false,
    error: new ValidationError({ code, message: `[eventbridge] ${message}`, issues: [{ path, message }], backend: "eventbridge", cause }),
  };
}

/**
 * Parses an EventBridge event — an object (Lambda), or JSON text / bytes (an SQS message body) —
 * into the typed envelope it carries. Never throws.
 */
export function safeParseEventBridgeEvent(input: unknown): SafeParseEventBridgeResult {
  let value = input;
  if (typeof input === "string" || input instanceof Uint8Array) {
    const text = typeof input === "string" ? input : Buffer.from(input).toString("utf8");
    try {
      value = JSON.parse(text);
    } catch (cause) {
      return invalid(`message is not JSON: ${(cause as Error).message}`, "", "MALFORMED_MESSAGE", cause);
    }
  }
  if (Array.isArray((value as { Records?: unknown } | null)?.Records)) {
    return invalid(
      "this is an SQS (Lambda trigger) event, not one EventBridge event — parse each record's body: event.Records.map((r) => parseEventBridgeEvent(r.body))",
      "Records",
      "MALFORMED_MESSAGE",
    );
  }
  const outer = eventBridgeEventSchema.safeParse(value);
  if (!outer.success) {
    const issues = outer.error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: i.message }));
    return {
      ok: false,
      error: new ValidationError({
        code: "MALFORMED_MESSAGE",
        backend: "eventbridge",
        message: `[eventbridge] not an EventBridge event: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")} — the target must receive the whole event (no InputPath/InputTransformer)`,
        issues,
      }),
    };
  }
  const raw = outer.data;
  const inner = safeParseEvent(raw.detail);
  if (!inner.ok) {
    const error = inner.error;
    return {
      ok: false,
      error: new ValidationError({
        code: error.code,
        backend: "eventbridge",
        message: `[eventbridge] detail of EventBridge event ${raw.id} is not a valid event: ${error.message.replace(/^\[core\] /, "")}`,
        issues: error.issues.map((i) => ({ ...i, path: i.path ? `detail.${i.path}` : "detail" })),
        cause: error,
      }),
    };
  }
  if (inner.event.type !== raw["detail-type"]) {
    return invalid(
      `detail-type "${raw["detail-type"]}" does not match the event type "${inner.event.type}" — the event was not published by this package unchanged`,
      "detail-type",
      "VALIDATION_FAILED",
    );
  }
  return {
    ok: true,
    event: inner.event,
    eventBridge: {
      id: raw.id,
      detailType: raw["detail-type"],
      source: raw.source,
      time: raw.time,
      region: raw.region,
      account: raw.account,
      resources: raw.resources ?? [],
    },
  };
}

/** Like safeParseEventBridgeEvent, but returns the typed envelope and throws ValidationError. */
export function parseEventBridgeEvent(input: unknown): DomainEvent {
  const result = safeParseEventBridgeEvent(input);
  if (!result.ok) throw result.error;
  return result.event;
}
