// The receiving end of the demo's OTLP export for the end-to-end tests. Two of them, read the same way
// (OTLP/JSON): an OTLP/HTTP server in the test process that keeps what it is sent (every backend's
// scenario), and the real OpenTelemetry Collector of tooling/services/otelcol.sh, read back from the
// file it writes per service.name (e2e-collector.test.ts). The demo's real SDK and exporters send to
// them — the server spans of the API, the create spans, the relay's send spans (from its worker
// thread), the live view's process spans — and the journey is asserted on them.

import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
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

export interface OtlpMetric {
  name: string;
  unit: string;
  /** The attributes of each data point. */
  points: Array<Record<string, string | number | boolean>>;
}

export interface OtlpReceiver {
  endpoint: string;
  /** The OTEL_* variables that point a demo process at this receiver, exporting soon. */
  env: Record<string, string>;
  spans(): OtlpSpan[];
  metricNames(): Set<string>;
  /** Every metric received, by name (the last export of each). */
  metrics(): Map<string, OtlpMetric>;
  close(): Promise<void>;
}

/** Adds what one OTLP/JSON export request (or one line of the collector's file exporter) carries. */
function collect(body: any, spans: OtlpSpan[], metrics: Map<string, OtlpMetric>): void {
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
  for (const rm of body.resourceMetrics ?? [])
    for (const sm of rm.scopeMetrics ?? [])
      for (const m of sm.metrics ?? []) {
        const data = m.histogram ?? m.sum ?? m.gauge ?? m.exponentialHistogram ?? {};
        metrics.set(m.name, {
          name: m.name,
          unit: m.unit ?? "",
          points: (data.dataPoints ?? []).map((p: { attributes?: Array<{ key: string; value: AnyValue }> }) => attributesOf(p.attributes)),
        });
      }
}

/** The demo's OTEL_* variables for a quick export (spans within 0.1 s, metrics every 0.5 s). */
function exportEnv(endpoint: string, serviceName: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_SERVICE_NAME: serviceName,
    OTEL_BSP_SCHEDULE_DELAY: "100",
    OTEL_METRIC_EXPORT_INTERVAL: "500",
  };
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: OtlpSpan[] = [];
  const metrics = new Map<string, OtlpMetric>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
        if (req.url === "/v1/traces") collect({ resourceSpans: body.resourceSpans }, spans, metrics);
        else if (req.url === "/v1/metrics") collect({ resourceMetrics: body.resourceMetrics }, spans, metrics);
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
    env: { ...exportEnv(endpoint, "kaireon-demo-e2e"), OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
    spans: () => [...spans],
    metricNames: () => new Set(metrics.keys()),
    metrics: () => new Map(metrics),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The collector of tooling/services/otelcol.sh (OTELCOL_OTLP_HTTP_ENDPOINT): the demo exports to it with
 * the standard OTEL_EXPORTER_OTLP_ENDPOINT and its own service name; what the collector received is read
 * from the file its file exporter writes for that service (OTELCOL_OUTPUT_DIR/<service.name>.jsonl).
 */
export function collectorReceiver(endpoint: string, outputDir: string, serviceName: string): OtlpReceiver {
  const file = join(outputDir, `${serviceName}.jsonl`);
  const read = () => {
    const spans: OtlpSpan[] = [];
    const metrics = new Map<string, OtlpMetric>();
    if (existsSync(file))
      for (const line of readFileSync(file, "utf8").split("\n")) {
        // The exporter may be mid-line when read: a partial last line is read again next time.
        if (!line.trim()) continue;
        try {
          collect(JSON.parse(line), spans, metrics);
        } catch {
          // a line still being written
        }
      }
    return { spans, metrics };
  };
  return {
    endpoint,
    env: exportEnv(endpoint, serviceName),
    spans: () => read().spans,
    metricNames: () => new Set(read().metrics.keys()),
    metrics: () => read().metrics,
    close: async () => {},
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
