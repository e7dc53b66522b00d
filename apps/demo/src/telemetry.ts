// OpenTelemetry for the demo (the application, so the SDK lives here and in no library). The standard
// variables switch it on: OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT /
// _METRICS_ENDPOINT) starts the Node SDK with OTLP export of traces and metrics, configured by the
// SDK from the other OTEL_* variables (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_PROTOCOL, headers,
// OTEL_TRACES_SAMPLER, OTEL_BSP_*, OTEL_METRIC_EXPORT_INTERVAL …); OTEL_TRACES_EXPORTER=none or
// OTEL_METRICS_EXPORTER=none leave that signal out. The server always keeps a Prometheus reader for
// `/metrics` (the same metrics, pulled), unless OTEL_SDK_DISABLED=true turns everything off.

import { context, metrics, propagation, SpanKind, SpanStatusCode, type TextMapGetter, trace } from "@opentelemetry/api";
import type { IMetricReader } from "@opentelemetry/sdk-metrics";
import type { MiddlewareHandler } from "hono";

export interface Telemetry {
  /** Traces are exported (OTLP). */
  readonly tracing: boolean;
  /** The registered metrics in Prometheus text format; undefined when this process has no Prometheus reader. */
  prometheusText?: () => Promise<string>;
  /** Flushes what is buffered and stops the exporters. */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

const set = (value: string | undefined) => value !== undefined && value.trim() !== "";

/**
 * Starts what the OTEL_* variables ask for. `prometheus`: the HTTP server's process keeps a pull
 * reader for /metrics. Returns undefined when nothing is on.
 */
export async function startTelemetry(env: Env, { prometheus }: { prometheus: boolean }): Promise<Telemetry | undefined> {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  const endpoint = set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const traces = (endpoint || set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)) && env.OTEL_TRACES_EXPORTER?.trim() !== "none";
  const otlpMetrics = (endpoint || set(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)) && env.OTEL_METRICS_EXPORTER?.trim() !== "none";
  // Loaded only when asked for: the SDK and its exporters are many modules, a cost every start
  // (and the relay thread's) would pay for nothing.
  const { PeriodicExportingMetricReader, MeterProvider } = await import("@opentelemetry/sdk-metrics");
  const { PrometheusExporter, PrometheusSerializer } = await import("@opentelemetry/exporter-prometheus");
  const readers: IMetricReader[] = [];
  // The HTTP server of the demo serves it; the exporter's own server stays off.
  const pull = prometheus ? new PrometheusExporter({ preventServerStart: true }) : undefined;
  if (pull) readers.push(pull);
  if (otlpMetrics) {
    const { OTLPMetricExporter } = await import("@opentelemetry/exporter-metrics-otlp-http");
    // A reader made here is not configured by the SDK: the export interval and timeout variables are
    // read here (without it, every 60 s whatever OTEL_METRIC_EXPORT_INTERVAL said).
    readers.push(new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), ...metricExportTiming(env) }));
  }
  if (!traces && readers.length === 0) return undefined;

  let shutdown: () => Promise<void>;
  if (traces) {
    // The SDK reads OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, the sampler and the exporter's own
    // variables; no auto-instrumentation is loaded (the demo's HTTP span is its own middleware).
    const { NodeSDK } = await import("@opentelemetry/sdk-node");
    const { BatchSpanProcessor } = await import("@opentelemetry/sdk-trace");
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    const sdk = new NodeSDK({
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
      metricReaders: readers,
      instrumentations: [],
      ...(set(env.OTEL_SERVICE_NAME) ? {} : { serviceName: "kaireon-demo" }),
    });
    sdk.start();
    shutdown = () => sdk.shutdown();
  } else {
    const provider = new MeterProvider({ readers });
    metrics.setGlobalMeterProvider(provider);
    shutdown = () => provider.shutdown();
  }
  const serializer = new PrometheusSerializer();
  return {
    tracing: Boolean(traces),
    ...(pull
      ? {
          prometheusText: async () => {
            const { resourceMetrics } = await pull.collect();
            return serializer.serialize(resourceMetrics);
          },
        }
      : {}),
    shutdown: () => shutdown().catch(() => {}),
  };
}

/** OTEL_METRIC_EXPORT_INTERVAL / _TIMEOUT (ms; the spec's defaults 60000 / 30000), the timeout at most the interval. */
export function metricExportTiming(env: Env): { exportIntervalMillis: number; exportTimeoutMillis: number } {
  const read = (name: string, fallback: number) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`${name}="${raw}" is not a positive whole number of milliseconds — set e.g. ${name}=${fallback}, or leave it unset`);
    return value;
  };
  const exportIntervalMillis = read("OTEL_METRIC_EXPORT_INTERVAL", 60_000);
  return { exportIntervalMillis, exportTimeoutMillis: Math.min(read("OTEL_METRIC_EXPORT_TIMEOUT", 30_000), exportIntervalMillis) };
}

const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

/**
 * A SERVER span per API request (`POST /api/v1/respond`), continuing an incoming W3C traceparent: the
 * events the handler creates get their `create` spans under it. A no-op without a tracer provider.
 */
export function requestSpans(): MiddlewareHandler {
  const tracer = trace.getTracer("@kaireon/demo");
  return async (c, next) => {
    const parent = propagation.extract(context.active(), c.req.raw.headers, headerGetter);
    const name = `${c.req.method} ${c.req.path}`;
    await tracer.startActiveSpan(
      name,
      {
        kind: SpanKind.SERVER,
        attributes: { "http.request.method": c.req.method, "url.path": c.req.path, "http.route": c.req.path },
      },
      parent,
      async (span) => {
        try {
          await next();
          span.setAttribute("http.response.status_code", c.res.status);
          if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        } finally {
          span.end();
        }
      },
    );
  };
}
