// What the two "beside a client instrumentation" tests share: the instrumentation registered with
// the in-memory SDK before the client library is first loaded (and the check that it really patched
// it), five events created inside one request span and published, and the span filters and link
// checks both tests assert with.
import { createRequire } from "node:module";
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, expect } from "vitest";
import { type OtelCapture, startOtel } from "../../../../packages/events-core/test/otel.js";

/**
 * Registers `instrumentation` for the file: the instrumentation patches its library when it is
 * required (an ESM application registers its import hook with `node --import`, which this test
 * runner cannot), so the library is required once here, from `pkg` (the backend package that imports
 * it) — that package's `import` then gets the same, patched module. `patched` says whether it is.
 */
export function besideInstrumentation(
  make: () => { disable(): void },
  pkg: string,
  library: string,
  patched: (module: Record<string, unknown>) => boolean,
): () => OtelCapture {
  let otel: OtelCapture | undefined;
  let instrumentation: { disable(): void } | undefined;
  beforeAll(() => {
    otel = startOtel();
    // What the Node SDK registers by default: the instrumentations inject and extract their trace
    // headers through the global propagator (kafkajs' per-record headers).
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    instrumentation = make();
    const module = createRequire(new URL(`../../../../packages/${pkg}/package.json`, import.meta.url))(library);
    expect(patched(module), `${library} patched by the instrumentation`).toBe(true);
  });
  afterAll(async () => {
    instrumentation?.disable();
    propagation.disable();
    await otel?.shutdown();
  });
  return () => {
    if (!otel) throw new Error("besideInstrumentation: used outside the test");
    return otel;
  };
}

export const scopeOf = (s: ReadableSpan) => s.instrumentationScope.name;
export const isOurs = (s: ReadableSpan) => scopeOf(s).startsWith("@kaireon/");
/** Our spans whose name starts with `operation` (create, send, process). */
export const ours = (spans: readonly ReadableSpan[], operation: string) => spans.filter((s) => isOurs(s) && s.name.startsWith(operation));

/** Five interaction events created inside one `POST /api/v1/respond` SERVER span, then published. */
export async function publishFiveInRequest<E extends { id: string }>(
  create: (i: number) => E,
  publish: (event: E) => Promise<unknown>,
): Promise<E[]> {
  const request = trace.getTracer("test").startSpan("POST /api/v1/respond", { kind: SpanKind.SERVER });
  const events = context.with(trace.setSpan(context.active(), request), () => Array.from({ length: 5 }, (_, i) => create(i)));
  request.end();
  await Promise.all(events.map(publish));
  return events;
}

/** Each create span is linked by exactly one of `spans` (a send or a process span), whatever the batching. */
export function expectEachLinkedOnce(creates: readonly ReadableSpan[], spans: readonly ReadableSpan[], what: string): void {
  for (const create of creates) {
    const linking = spans.filter((s) => s.links.some((l) => l.context.spanId === create.spanContext().spanId));
    expect(linking, `${what} spans linked to ${create.name}`).toHaveLength(1);
  }
}
