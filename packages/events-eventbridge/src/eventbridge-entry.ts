// How one envelope becomes one PutEvents entry, and what that entry weighs. The size follows AWS's
// "Calculating PutEvents event entry size": 14 bytes for Time when present, plus the UTF-8 bytes of
// Source, DetailType, Detail and each Resources entry (EventBusName and TraceHeader do not count).

import type { PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { type DomainEvent, serializeEvent } from "@kaireon/events-core/backend";

export function entrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time === undefined ? 0 : 14;
  if (entry.Source) size += Buffer.byteLength(entry.Source, "utf8");
  if (entry.DetailType) size += Buffer.byteLength(entry.DetailType, "utf8");
  if (entry.Detail) size += Buffer.byteLength(entry.Detail, "utf8");
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(resource, "utf8");
  return size;
}

/**
 * W3C `traceparent` → X-Ray trace header, the format PutEvents' TraceHeader takes. X-Ray accepts
 * W3C trace ids split as `1-<first 8 hex>-<last 24 hex>`, so the trace stays one trace across both.
 */
export function traceHeaderFromTraceparent(traceparent: string | undefined): string | undefined {
  const match = traceparent?.match(/^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/);
  if (!match) return undefined;
  const [, traceId = "", parentId = "", flags = "00"] = match;
  const sampled = (Number.parseInt(flags, 16) & 1) === 1 ? 1 : 0;
  return `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${parentId};Sampled=${sampled}`;
}

/** Source = the configured one or the envelope's, DetailType = topic, Detail = the whole envelope (our id travels inside). */
export function toPutEventsEntry(event: DomainEvent, bus: string, source: string | undefined): PutEventsRequestEntry {
  const entry: PutEventsRequestEntry = {
    EventBusName: bus,
    Source: source ?? event.source,
    DetailType: event.type,
    Detail: serializeEvent(event),
    Time: new Date(event.time),
  };
  const traceHeader = traceHeaderFromTraceparent(event.traceparent);
  if (traceHeader !== undefined) entry.TraceHeader = traceHeader;
  return entry;
}
