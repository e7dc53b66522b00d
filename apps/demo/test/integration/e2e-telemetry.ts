// The receiving end of the demo's OTLP export for the end-to-end tests: an OTLP/HTTP server (JSON
// encoding, OTEL_EXPORTER_OTLP_PROTOCOL=http/json) on 127.0.0.1 that keeps what it is sent. The demo's
// real SDK and exporters send to it — the server spans of the API, the create spans, the relay's send
// spans (from its worker thread), the live view's process spans — and the journey is asserted on them.
// A stand-in for a collector: no collector or Jaeger build fits CI's time (see the demo README).

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "vitest";

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  links: Array<{ traceId: string; spanId: string }>;
}

export const KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const;

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };

function attributesOf(list: Array<{ key: string; value: AnyValue }> | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue ?? ""));
  }
  return out;
}

export interface OtlpReceiver {
  endpoint: string;
  /** The OTEL_* variables that point a demo process at this receiver, exporting soon. */
  env: Record<string, string>;
  spans(): OtlpSpan[];
  metricNames(): Set<string>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: OtlpSpan[] = [];
  const metricNames = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
        if (req.url === "/v1/traces") {
          for (const rs of body.resourceSpans ?? [])
            for (const ss of rs.scopeSpans ?? [])
              for (const s of ss.spans ?? [])
                spans.push({
                  traceId: s.traceId,
                  spanId: s.spanId,
                  ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
                  name: s.name,
                  kind: s.kind,
                  attributes: attributesOf(s.attributes),
                  links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: l.traceId, spanId: l.spanId })),
                });
        } else if (req.url === "/v1/metrics") {
          for (const rm of body.resourceMetrics ?? [])
            for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) metricNames.add(m.name);
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "kaireon-demo-e2e",
      OTEL_BSP_SCHEDULE_DELAY: "100",
      OTEL_METRIC_EXPORT_INTERVAL: "500",
    },
    spans: () => [...spans],
    metricNames: () => new Set(metricNames),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * POST /api/v1/respond → create → send → process as one connected journey: the create span a child
 * of the request's server span, the send span (a batch of the relay) linked to it, the process span of
 * the demo's live view linked to it and, with no ambient span, its child — all in the request's trace.
 */
export async function expectJourney(receiver: OtlpReceiver, eventId: string, system: string): Promise<void> {
  const find = () => {
    const all = receiver.spans();
    const create = all.find((s) => s.name === "create interaction.recorded.v1" && s.attributes["messaging.message.id"] === eventId);
    const server = create && all.find((s) => s.spanId === create.parentSpanId);
    const linked = (s: OtlpSpan) => create !== undefined && s.links.some((l) => l.spanId === create.spanId && l.traceId === create.traceId);
    const send = all.find((s) => s.name.startsWith("send") && linked(s));
    const process = all.find((s) => s.name.startsWith("process") && linked(s));
    return { create, server, send, process };
  };
  await expect
    .poll(
      () => {
        const j = find();
        return { create: !!j.create, server: !!j.server, send: !!j.send, process: !!j.process };
      },
      { timeout: 30_000, interval: 200 },
    )
    .toEqual({ create: true, server: true, send: true, process: true });
  const j = find();
  const [create, server, send, process] = [j.create, j.server, j.send, j.process] as OtlpSpan[] as [OtlpSpan, OtlpSpan, OtlpSpan, OtlpSpan];
  expect(server.name).toBe("POST /api/v1/respond");
  expect(server.kind).toBe(KIND.server);
  expect(create.kind).toBe(KIND.producer);
  expect(create.traceId).toBe(server.traceId);
  expect(send.kind).toBe(KIND.client);
  expect(send.attributes["messaging.system"]).toBe(system);
  expect(send.attributes["messaging.operation.type"]).toBe("send");
  expect(Number(send.attributes["messaging.batch.message_count"])).toBeGreaterThanOrEqual(1);
  expect(process.kind).toBe(KIND.consumer);
  expect(process.attributes).toMatchObject({
    "messaging.system": system,
    "messaging.message.id": eventId,
    "messaging.operation.type": "process",
  });
  expect(process.parentSpanId).toBe(create.spanId);
  expect(process.traceId).toBe(server.traceId);
}
