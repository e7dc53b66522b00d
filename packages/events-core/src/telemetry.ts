// OpenTelemetry, through the API only and only when the application installed it: spans and metrics
// after the messaging semantic conventions (their names are copied here: the conventions are still
// "development", so no semconv package is imported). Everything is a no-op until an SDK registers
// something global, and that is tested first with one property read, so an application without
// OpenTelemetry (or with the API and no SDK) pays nothing measurable per event.
//
// The API is loaded with require(): synchronous (no top-level await, so `require(esm)` of core keeps
// working), and a missing package is simply "off". The CommonJS and ESM copies of the API share
// their state through one global, so an application importing the ESM copy is seen here too.

import { createRequire } from "node:module";
import type * as Otel from "@opentelemetry/api";
import type { DomainEvent } from "./envelope.js";
import { EventsError } from "./errors.js";
import { isTrusted } from "./trusted.js";

const require = createRequire(import.meta.url);

function load(): typeof Otel | undefined {
  try {
    return require("@opentelemetry/api") as typeof Otel;
  } catch {
    return undefined;
  }
}

function coreVersion(): string | undefined {
  try {
    return (require("../package.json") as { version?: string }).version;
  } catch {
    return undefined;
  }
}

const api = load();
const SCOPE = "@kaireon/events-core";
const VERSION = coreVersion();
/** Where API 1.x keeps what an SDK registered (tracer/meter provider, context manager, propagator). */
const GLOBAL = Symbol.for("opentelemetry.js.api.1");
const g = globalThis as unknown as Record<symbol, object | undefined>;

// The attribute and metric names of the messaging conventions.
export const ATTR = {
  system: "messaging.system",
  destination: "messaging.destination.name",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  messageId: "messaging.message.id",
  batchCount: "messaging.batch.message_count",
  consumerGroup: "messaging.consumer.group.name",
  errorType: "error.type",
} as const;

export const METRIC = {
  operationDuration: "messaging.client.operation.duration",
  sentMessages: "messaging.client.sent.messages",
  consumedMessages: "messaging.client.consumed.messages",
  processDuration: "messaging.process.duration",
  pending: "kaireon.events.publisher.pending",
} as const;

/** The conventions' advised buckets for messaging durations (seconds). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** `messaging.system` per backend: the conventions' value where there is one, else our own. */
const SYSTEMS: Record<string, string> = {
  kafka: "kafka",
  msk: "kafka",
  redis: "redis",
  eventbridge: "aws.eventbridge",
  kinesis: "aws.kinesis",
  memory: "memory",
};

export function messagingSystem(backend: string): string {
  return SYSTEMS[backend] ?? backend;
}

/**
 * The API, when an SDK (or anything else) registered with it: only then can any work here matter.
 * Undefined otherwise, after one property read (the whole cost of telemetry without an SDK).
 */
function registeredApi(): typeof Otel | undefined {
  return g[GLOBAL] === undefined ? undefined : api;
}

/** The cheap guard for callers: false means no telemetry call can do anything (no SDK registered). */
export function telemetryRegistered(): boolean {
  return registeredApi() !== undefined;
}

interface ActiveTelemetry {
  otel: typeof Otel;
  /** Undefined when no tracer provider is registered (then no span is started at all). */
  tracer: Otel.Tracer | undefined;
  /** Undefined when no meter provider is registered. */
  meters: Instruments | undefined;
}

/**
 * What the hooks work with: the API, the tracer and the instruments registered now. Undefined when
 * neither a tracer nor a meter provider is registered, and then reached after one property read and
 * no allocation: the hot path without an SDK stays as cheap as before.
 */
function activeTelemetry(): ActiveTelemetry | undefined {
  const otel = registeredApi();
  if (otel === undefined) return undefined;
  const tracer = activeTracer(otel);
  const meters = instruments(otel);
  return tracer === undefined && meters === undefined ? undefined : { otel, tracer, meters };
}

// ---- traces ------------------------------------------------------------------------------------

let noopTracerProvider: Otel.TracerProvider | undefined;

/** A tracer when a tracer provider is registered, else undefined (then no span is started at all). */
function activeTracer(otel: typeof Otel): Otel.Tracer | undefined {
  const provider = otel.trace.getTracerProvider();
  if (provider instanceof otel.ProxyTracerProvider) {
    noopTracerProvider ??= new otel.ProxyTracerProvider().getDelegate();
    if (provider.getDelegate() === noopTracerProvider) return undefined;
  }
  return provider.getTracer(SCOPE, VERSION);
}

function traceparentOf(context: Otel.SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * A span context (the OpenTelemetry API's SpanContext shape, spelled out here so that core's types
 * never need the optional API package to be installed).
 */
export interface TraceContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
}

/** The span context a W3C traceparent names (for a link), or undefined when it names none or the API is not installed. */
export function spanContextOf(traceparent: string | undefined): TraceContext | undefined {
  if (traceparent === undefined || api === undefined) return undefined;
  const m = TRACEPARENT.exec(traceparent);
  if (!m) return undefined;
  const context: Otel.SpanContext = {
    traceId: m[1] as string,
    spanId: m[2] as string,
    traceFlags: Number.parseInt(m[3] as string, 16),
    isRemote: true,
  };
  return api.isSpanContextValid(context) ? context : undefined;
}

/**
 * The `create <topic>` span, when createEvent runs inside an active trace: a PRODUCER span, ended at
 * once, whose context becomes the envelope's traceparent (the message creation context).
 */
export function creationTraceparent(topic: string, id: string): string | undefined {
  const otel = registeredApi();
  if (otel === undefined) return undefined;
  const parent = otel.context.active();
  const parentSpan = otel.trace.getSpan(parent);
  if (parentSpan === undefined || !otel.isSpanContextValid(parentSpan.spanContext())) return undefined;
  const tracer = activeTracer(otel);
  // A propagated context and no tracer: carry the caller's context rather than none.
  if (tracer === undefined) return traceparentOf(parentSpan.spanContext());
  const span = tracer.startSpan(
    `create ${topic}`,
    {
      kind: otel.SpanKind.PRODUCER,
      attributes: {
        [ATTR.operationType]: "create",
        [ATTR.operationName]: "create",
        [ATTR.destination]: topic,
        [ATTR.messageId]: id,
      },
    },
    parent,
  );
  const traceparent = traceparentOf(span.spanContext());
  span.end();
  return traceparent;
}

/** The error class of a failure for `error.type`: the EventsError code, else the error's class name. */
export function errorType(error: unknown): string {
  if (EventsError.isInstance(error)) return error.code;
  const name = (error as { constructor?: { name?: string } } | null)?.constructor?.name;
  return typeof name === "string" && name.length > 0 && name !== "Object" ? name : "_OTHER";
}

/** The event a batcher item stands for: the item itself (Kafka) or its `event` field. */
export function eventOfItem(item: unknown): DomainEvent | undefined {
  if (isTrusted(item)) return item as DomainEvent;
  const event = (item as { event?: unknown } | null)?.event;
  return isTrusted(event) ? (event as DomainEvent) : undefined;
}

export interface SendScope {
  /** Runs the request with the send span as its active context (so client instrumentations nest under it). */
  run<T>(request: () => Promise<T>): Promise<T>;
  /**
   * Ends the span and records the metrics: `outcomes[i]` is how event i fared (all sent when
   * `outcomes` is empty), `thrown` what failed the whole request.
   */
  end(outcomes: readonly { ok: boolean; error?: unknown }[], thrown?: unknown): void;
}

/**
 * One backend request (`send <destination>`): a CLIENT span linked to each event's creation context
 * (the events' create spans are the PRODUCER spans), the operation duration and the sent-message
 * count. Undefined — and nothing done — when neither a tracer nor a meter provider is registered.
 * `batch` requests start a trace of their own: the batch runs in whichever caller's context armed
 * the batcher's timer, which is no parent of the other events. A request for events of several
 * destinations has no destination on its span and duration (semantic conventions); its sent-message
 * counts are still recorded per destination, so a per-topic count sees every message.
 */
export function startSend(
  backend: string,
  events: readonly (DomainEvent | undefined)[],
  destinationOf: (event: DomainEvent) => string,
  batch: boolean,
): SendScope | undefined {
  const telemetry = activeTelemetry();
  if (telemetry === undefined) return undefined;
  const { otel, tracer, meters } = telemetry;
  const started = performance.now();
  const system = messagingSystem(backend);
  let destination: string | undefined;
  for (const event of events) {
    const d = event === undefined ? undefined : destinationOf(event);
    if (destination === undefined) destination = d;
    else if (d !== destination) {
      destination = undefined;
      break;
    }
  }
  const attributes: Otel.Attributes = {
    [ATTR.system]: system,
    [ATTR.operationType]: "send",
    [ATTR.operationName]: "send",
  };
  if (destination !== undefined) attributes[ATTR.destination] = destination;
  let span: Otel.Span | undefined;
  let spanContext: Otel.Context | undefined;
  if (tracer !== undefined) {
    const links: Otel.Link[] = [];
    for (const event of events) {
      const context = spanContextOf(event?.traceparent);
      if (context) links.push({ context });
    }
    const spanAttributes: Otel.Attributes = { ...attributes, [ATTR.batchCount]: events.length };
    if (events.length === 1 && events[0] !== undefined) spanAttributes[ATTR.messageId] = events[0].id;
    const parent = batch ? otel.ROOT_CONTEXT : otel.context.active();
    span = tracer.startSpan(
      destination === undefined ? "send" : `send ${destination}`,
      { kind: otel.SpanKind.CLIENT, attributes: spanAttributes, links },
      parent,
    );
    spanContext = otel.trace.setSpan(parent, span);
  }
  return {
    run: (request) => (spanContext ? otel.context.with(spanContext, request) : request()),
    end: (outcomes, thrown) => {
      const seconds = (performance.now() - started) / 1000;
      const failures = thrown !== undefined ? [] : outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
      const failed = thrown !== undefined ? events.length : failures.length;
      const first = thrown ?? failures[0];
      const type = failed > 0 ? errorType(first) : undefined;
      if (span) {
        if (type !== undefined) {
          span.setAttribute(ATTR.errorType, type);
          span.setStatus({ code: otel.SpanStatusCode.ERROR, message: (first as Error)?.message ?? String(first) });
        }
        span.end();
      }
      if (meters) {
        meters.operationDuration.record(seconds, type === undefined ? attributes : { ...attributes, [ATTR.errorType]: type });
        // Per destination and error class, so a partial failure shows what failed how, and where.
        const counts = new Map<string, { destination: string | undefined; type: string | undefined; n: number }>();
        events.forEach((event, i) => {
          const outcome = outcomes[i];
          const type = thrown !== undefined ? errorType(thrown) : outcome && !outcome.ok ? errorType(outcome.error) : undefined;
          const d = destination ?? (event === undefined ? undefined : destinationOf(event));
          const key = `${d ?? ""}\u0000${type ?? ""}`;
          const count = counts.get(key);
          if (count) count.n++;
          else counts.set(key, { destination: d, type, n: 1 });
        });
        for (const { destination: d, type: t, n } of counts.values()) {
          const at: Otel.Attributes = { ...attributes };
          if (d !== undefined) at[ATTR.destination] = d;
          if (t !== undefined) at[ATTR.errorType] = t;
          meters.sentMessages.add(n, at);
        }
      }
    },
  };
}

export interface ProcessScope {
  run<T>(handler: () => Promise<T>): Promise<T>;
  /** Ends the span and records the metrics; `failure` is the `error.type` when the handling failed. */
  end(failure?: string): void;
}

interface SdkSpanShape {
  kind?: number;
  attributes?: Otel.Attributes;
  addLink?: (link: Otel.Link) => void;
}

/**
 * `process <destination>`: a CONSUMER span per event, linked to the event's creation context. Its
 * parent is the ambient span when there is one (the conventions' default), else the creation context
 * itself, so a journey without an ambient span reads as one trace. When the ambient span is already
 * a CONSUMER span of a client instrumentation, that span is the process span: it gets the link and
 * the message id instead of a second span for the same message. `withSpan` false: the transport's
 * client makes this message's process span itself (Inbox.processSpans), only the metrics are here.
 */
export function startProcess(
  backend: string,
  event: DomainEvent,
  destination: string,
  group: string | undefined,
  withSpan = true,
): ProcessScope | undefined {
  const telemetry = activeTelemetry();
  if (telemetry === undefined) return undefined;
  const { otel, tracer, meters } = telemetry;
  const started = performance.now();
  const attributes: Otel.Attributes = {
    [ATTR.system]: messagingSystem(backend),
    [ATTR.operationType]: "process",
    [ATTR.operationName]: "process",
    [ATTR.destination]: destination,
  };
  if (group !== undefined) attributes[ATTR.consumerGroup] = group;
  let span: Otel.Span | undefined;
  let spanContext: Otel.Context | undefined;
  if (tracer !== undefined && withSpan) {
    const creation = spanContextOf(event.traceparent);
    const active = otel.context.active();
    const ambient = otel.trace.getSpan(active);
    const shape = ambient as unknown as SdkSpanShape | undefined;
    // A CONSUMER span of one message only: a batch's span (kafkajs' eachBatch) is not this message's.
    const batchSize = Number(shape?.attributes?.[ATTR.batchCount] ?? 1);
    if (ambient?.isRecording() && shape?.kind === otel.SpanKind.CONSUMER && batchSize <= 1) {
      if (creation) shape.addLink?.({ context: creation });
      ambient.setAttribute(ATTR.messageId, event.id);
    } else {
      const parent = ambient === undefined && creation ? otel.trace.setSpanContext(active, creation) : active;
      span = tracer.startSpan(
        `process ${destination}`,
        {
          kind: otel.SpanKind.CONSUMER,
          attributes: { ...attributes, [ATTR.messageId]: event.id },
          links: creation ? [{ context: creation }] : [],
        },
        parent,
      );
      spanContext = otel.trace.setSpan(parent, span);
    }
  }
  return {
    run: (handler) => (spanContext ? otel.context.with(spanContext, handler) : handler()),
    end: (type) => {
      if (span) {
        if (type !== undefined) {
          span.setAttribute(ATTR.errorType, type);
          span.setStatus({ code: otel.SpanStatusCode.ERROR, message: type });
        }
        span.end();
      }
      if (meters) {
        const recorded = type === undefined ? attributes : { ...attributes, [ATTR.errorType]: type };
        meters.processDuration.record((performance.now() - started) / 1000, recorded);
        meters.consumedMessages.add(1, recorded);
      }
    },
  };
}

// ---- metrics -----------------------------------------------------------------------------------

interface Instruments {
  provider: Otel.MeterProvider;
  meter: Otel.Meter;
  operationDuration: Otel.Histogram;
  sentMessages: Otel.Counter;
  consumedMessages: Otel.Counter;
  processDuration: Otel.Histogram;
}

let current: Instruments | undefined;
let currentProvider: Otel.MeterProvider | undefined;
let noopCounter: Otel.Counter | undefined;

interface GaugeRegistration {
  /** Removes its callbacks from the meters it was registered on. */
  detach: Array<() => void>;
  name: string;
  options: Otel.MetricOptions;
  observe: (record: (value: number, attributes?: Otel.Attributes) => void) => void | Promise<void>;
}
const gauges = new Set<GaugeRegistration>();

/**
 * The instruments on the meter provider registered now, made again when another one is registered
 * (the metrics API has no proxy: a meter taken before the SDK started would stay a no-op).
 */
function instruments(otel: typeof Otel | undefined = registeredApi()): Instruments | undefined {
  if (otel === undefined) return undefined;
  const provider = otel.metrics.getMeterProvider();
  if (provider === currentProvider) return current;
  currentProvider = provider;
  const meter = provider.getMeter(SCOPE, VERSION);
  noopCounter ??= otel.createNoopMeter().createCounter("noop");
  const sentMessages = meter.createCounter(METRIC.sentMessages, {
    unit: "{message}",
    description: "Messages the producer attempted to send to the broker",
  });
  if (sentMessages === noopCounter) {
    current = undefined;
    return undefined;
  }
  const advice = { explicitBucketBoundaries: DURATION_BUCKETS };
  current = {
    provider,
    meter,
    sentMessages,
    operationDuration: meter.createHistogram(METRIC.operationDuration, {
      unit: "s",
      description: "Duration of one send request to the broker",
      advice,
    }),
    consumedMessages: meter.createCounter(METRIC.consumedMessages, {
      unit: "{message}",
      description: "Messages delivered to the application's handler",
    }),
    processDuration: meter.createHistogram(METRIC.processDuration, {
      unit: "s",
      description: "Duration of handling one message (all attempts)",
      advice,
    }),
  };
  for (const gauge of gauges) observeOn(current.meter, gauge);
  return current;
}

function observeOn(meter: Otel.Meter, gauge: GaugeRegistration): void {
  const instrument = meter.createObservableGauge(gauge.name, gauge.options);
  const callback: Otel.ObservableCallback = (result) => gauge.observe((value, attributes) => result.observe(value, attributes));
  instrument.addCallback(callback);
  gauge.detach.push(() => instrument.removeCallback(callback));
}

/**
 * An observable gauge, read at each collection by `observe` (which calls `record` once per attribute
 * set, and may be async: a database count). Registered on the meter provider of now and of later;
 * returns the unregistration.
 */
export function observeGauge(
  name: string,
  options: { unit: string; description: string },
  observe: (record: (value: number, attributes?: Record<string, string | number | boolean>) => void) => void | Promise<void>,
): () => void {
  const gauge: GaugeRegistration = { detach: [], name, options, observe };
  // Instruments first: made now, they register every gauge already in the set, this one not twice.
  const meters = instruments();
  gauges.add(gauge);
  if (meters) observeOn(meters.meter, gauge);
  return () => {
    gauges.delete(gauge);
    for (const undo of gauge.detach.splice(0)) undo();
  };
}

/** A histogram on whatever meter provider is registered at each record(); a no-op without one. */
export function telemetryHistogram(
  name: string,
  options: { unit: string; description: string; buckets?: number[] },
): {
  /** A meter provider is registered: worth computing a value for record(). */
  enabled(): boolean;
  record(value: number, attributes?: Record<string, string | number | boolean>): void;
} {
  const entry: { options: Otel.MetricOptions; instrument?: Otel.Histogram; provider?: Otel.MeterProvider } = {
    options: {
      unit: options.unit,
      description: options.description,
      ...(options.buckets ? { advice: { explicitBucketBoundaries: options.buckets } } : {}),
    },
  };
  return {
    enabled: () => instruments() !== undefined,
    record(value, attributes) {
      const meters = instruments();
      if (meters === undefined) return;
      if (entry.provider !== meters.provider) {
        entry.provider = meters.provider;
        entry.instrument = meters.meter.createHistogram(name, entry.options);
      }
      entry.instrument?.record(value, attributes);
    },
  };
}

// The publishers whose pending count the pending gauge reports, weakly: an unclosed publisher that
// is dropped leaves the gauge.
const publishers = new Set<WeakRef<{ readonly backend: string; pendingNow(): number }>>();
let pendingGauge = false;

export function trackPending(publisher: { readonly backend: string; pendingNow(): number }): () => void {
  if (api === undefined) return () => {};
  const ref = new WeakRef(publisher);
  publishers.add(ref);
  if (!pendingGauge) {
    pendingGauge = true;
    observeGauge(
      METRIC.pending,
      { unit: "{message}", description: "Events accepted by publishers and not yet settled (queued + in flight)" },
      (record) => {
        const bySystem = new Map<string, number>();
        for (const r of publishers) {
          const p = r.deref();
          if (p === undefined) {
            publishers.delete(r);
            continue;
          }
          const system = messagingSystem(p.backend);
          bySystem.set(system, (bySystem.get(system) ?? 0) + p.pendingNow());
        }
        for (const [system, value] of bySystem) record(value, { [ATTR.system]: system });
      },
    );
  }
  return () => {
    publishers.delete(ref);
  };
}
