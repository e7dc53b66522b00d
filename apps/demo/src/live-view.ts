// The live view of the stream: it reads events through the Subscriber port (in-process bus for the
// embedded default, the real broker otherwise), so what it shows is what a real consumer receives.
// It keeps counts per topic (and per interaction type), events per second per topic over the last
// minutes, the end-to-end lag of what it receives (event time → received here), the last events, and
// fans them out to the terminal tail and to the web page's server-sent-event clients.
//
// On a backend that keeps its events (Kafka, MSK, Kinesis, Redis Streams) the view's group starts
// from the earliest retained event the first time it runs, so once it has caught up its totals are
// the store's counts — including what was published before the view joined. On one that keeps
// nothing (Redis pub/sub, EventBridge's queue, the in-memory bus) it counts from its own start: the
// page says "live since <time>".

import type { DomainEvent, Subscriber, Subscription, TopicName } from "@kaireon/events-core";
import { topicNames } from "@kaireon/events-core";

export interface LiveEvent {
  id: string;
  type: TopicName;
  time: string;
  tenantId: string;
  customerId: string;
  /** interaction.recorded.v1 only. */
  interactionType?: string;
  summary: string;
  data: DomainEvent["data"];
  /** When the view received it (ISO). */
  receivedAt: string;
  /** The whole CloudEvent as the subscriber delivered it. */
  cloudEvent: DomainEvent;
}

/** Where the view's counts start: the earliest retained event (replay) or its own start (live). */
export interface LiveOrigin {
  mode: "replay" | "live";
  /** When the view subscribed (ISO); undefined until it has. */
  since: string | undefined;
}

export interface LiveLag {
  /** Events in the window (the last LAG_WINDOW_MS of receipts, at most LAG_SAMPLES). */
  samples: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface LiveRates {
  /** Epoch second of the last bucket; bucket i is second `end - (length - 1) + i`. */
  end: number;
  /** Events per second per topic, by event time, oldest first. */
  perTopic: Record<string, number[]>;
}

export interface LiveSnapshot {
  backend: string;
  origin: LiveOrigin;
  counts: Record<string, number>;
  byInteractionType: Record<string, number>;
  recent: LiveEvent[];
  rates: LiveRates;
  lag: LiveLag;
}

/** The chart's span: events per second over the last five minutes. */
export const RATE_SECONDS = 300;
/** Lag percentiles are over the events received in the last 30 s (at most LAG_SAMPLES of them). */
const LAG_WINDOW_MS = 30_000;
const LAG_SAMPLES = 5000;

type Listener = (event: LiveEvent, snapshot: { counts: Record<string, number>; byInteractionType: Record<string, number> }) => void;

export function summarize(event: DomainEvent): string {
  if (event.type === "interaction.recorded.v1") {
    const d = event.data;
    return `${d.interactionType} ${d.offerId} via ${d.channelId}${d.recommendationId ? ` (rec ${d.recommendationId.slice(-8)})` : ""}`;
  }
  const d = event.data;
  return `${d.offersReturned} offers, top ${d.topOfferId ?? "-"} @ ${d.topPropensity ?? "-"} [${d.decisionFlowKey}]`;
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export interface LiveViewOptions {
  recentLimit?: number;
  tail?: (line: string) => void;
  onError?: (message: string) => void;
  /** The backend keeps its events: start the group at the earliest retained one. */
  replay?: boolean;
  /** For tests: the clock (ms). */
  now?: () => number;
}

export class LiveView {
  readonly counts: Record<string, number> = Object.fromEntries(topicNames.map((t) => [t, 0]));
  readonly byInteractionType: Record<string, number> = {};
  private readonly recent: LiveEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private subscription: Subscription | undefined;
  private since: string | undefined;
  /** When the view first tried to subscribe: the tail prints what arrives from then on, not a replayed history. */
  private startedMs: number | undefined;
  /** Ring of per-second counts per topic, indexed by epoch second % RATE_SECONDS. */
  private readonly buckets: Record<string, number[]> = Object.fromEntries(topicNames.map((t) => [t, new Array(RATE_SECONDS).fill(0)]));
  private readonly bucketSecond: number[] = new Array(RATE_SECONDS).fill(-1);
  /** Lag samples, oldest first: [received ms, lag ms]. */
  private readonly lags: Array<[number, number]> = [];
  private readonly now: () => number;

  constructor(
    private readonly subscriber: Subscriber,
    private readonly options: LiveViewOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  get backend(): string {
    return this.subscriber.backend;
  }

  get origin(): LiveOrigin {
    return { mode: this.options.replay ? "replay" : "live", since: this.since };
  }

  async start(): Promise<void> {
    this.startedMs ??= this.now();
    this.subscription = await this.subscriber.subscribe(topicNames, (event) => this.record(event), {
      group: "kaireon-demo-live-view",
      ...(this.options.replay ? { from: "earliest" as const } : {}),
      onError: (failure) => this.options.onError?.(`[demo] live view skipped a message: ${failure.error.message}`),
    });
    this.since = new Date(this.now()).toISOString();
  }

  private record(event: DomainEvent): void {
    const now = this.now();
    this.counts[event.type] = (this.counts[event.type] ?? 0) + 1;
    const interactionType = event.type === "interaction.recorded.v1" ? event.data.interactionType : undefined;
    if (interactionType) this.byInteractionType[interactionType] = (this.byInteractionType[interactionType] ?? 0) + 1;
    const eventMs = Date.parse(event.time);
    if (Number.isFinite(eventMs)) {
      this.count(event.type, Math.floor(eventMs / 1000), Math.floor(now / 1000));
      this.lags.push([now, Math.max(0, now - eventMs)]);
      if (this.lags.length > LAG_SAMPLES) this.lags.shift();
    }
    const live: LiveEvent = {
      id: event.id,
      type: event.type,
      time: event.time,
      tenantId: event.data.tenantId,
      customerId: event.data.customerId,
      ...(interactionType ? { interactionType } : {}),
      summary: summarize(event),
      data: event.data,
      receivedAt: new Date(now).toISOString(),
      cloudEvent: event,
    };
    this.recent.push(live);
    if (this.recent.length > (this.options.recentLimit ?? 100)) this.recent.shift();
    // A replayed history (up to a whole retained topic) is counted and charted, not printed line by line.
    const replayed = this.options.replay === true && Number.isFinite(eventMs) && eventMs < (this.startedMs ?? 0);
    if (!replayed) this.options.tail?.(`${live.time}  ${live.type.padEnd(24)} ${live.tenantId}/${live.customerId}  ${live.summary}`);
    const totals = { counts: this.counts, byInteractionType: this.byInteractionType };
    for (const listener of this.listeners) {
      try {
        listener(live, totals);
      } catch {
        // A broken page connection must not stop the others.
      }
    }
  }

  /** One event in its event-time second; seconds outside the chart's span (replayed history, clock skew) are not charted. */
  private count(topic: string, second: number, nowSecond: number): void {
    if (second <= nowSecond - RATE_SECONDS || second > nowSecond + 1) return;
    const slot = ((second % RATE_SECONDS) + RATE_SECONDS) % RATE_SECONDS;
    if (this.bucketSecond[slot] !== second) {
      this.bucketSecond[slot] = second;
      for (const t of Object.keys(this.buckets)) (this.buckets[t] as number[])[slot] = 0;
    }
    const bucket = this.buckets[topic];
    if (bucket) bucket[slot] = (bucket[slot] ?? 0) + 1;
  }

  rates(): LiveRates {
    const end = Math.floor(this.now() / 1000);
    const perTopic: Record<string, number[]> = {};
    for (const [topic, bucket] of Object.entries(this.buckets)) {
      const series: number[] = [];
      for (let s = end - RATE_SECONDS + 1; s <= end; s++) {
        const slot = ((s % RATE_SECONDS) + RATE_SECONDS) % RATE_SECONDS;
        series.push(this.bucketSecond[slot] === s ? (bucket[slot] ?? 0) : 0);
      }
      perTopic[topic] = series;
    }
    return { end, perTopic };
  }

  lag(): LiveLag {
    const from = this.now() - LAG_WINDOW_MS;
    while (this.lags.length > 0 && (this.lags[0] as [number, number])[0] < from) this.lags.shift();
    const sorted = this.lags.map(([, ms]) => ms).sort((a, b) => a - b);
    return { samples: sorted.length, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), maxMs: sorted.at(-1) ?? null };
  }

  snapshot(): LiveSnapshot {
    return {
      backend: this.subscriber.backend,
      origin: this.origin,
      counts: { ...this.counts },
      byInteractionType: { ...this.byInteractionType },
      recent: [...this.recent],
      rates: this.rates(),
      lag: this.lag(),
    };
  }

  onEvent(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.subscription?.close();
    await this.subscriber.close();
  }
}
