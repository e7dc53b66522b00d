// The live view of the stream: it reads events through the Subscriber port (in-process bus for the
// embedded default, the real broker otherwise), so what it shows is what a real consumer receives.
// It keeps counts per topic (and per interaction type), the last events, and fans them out to the
// terminal tail and to the web page's server-sent-event clients.

import type { DomainEvent, Subscriber, Subscription, TopicName } from "@kaireon/events-core";
import { topicNames } from "@kaireon/events-core";

export interface LiveEvent {
  id: string;
  type: TopicName;
  time: string;
  tenantId: string;
  customerId: string;
  summary: string;
  data: DomainEvent["data"];
}

export interface LiveSnapshot {
  backend: string;
  counts: Record<string, number>;
  byInteractionType: Record<string, number>;
  recent: LiveEvent[];
}

type Listener = (event: LiveEvent, snapshot: { counts: Record<string, number>; byInteractionType: Record<string, number> }) => void;

export function summarize(event: DomainEvent): string {
  if (event.type === "interaction.recorded.v1") {
    const d = event.data;
    return `${d.interactionType} ${d.offerId} via ${d.channelId}${d.recommendationId ? ` (rec ${d.recommendationId.slice(-8)})` : ""}`;
  }
  const d = event.data;
  return `${d.offersReturned} offers, top ${d.topOfferId ?? "-"} @ ${d.topPropensity ?? "-"} [${d.decisionFlowKey}]`;
}

export class LiveView {
  readonly counts: Record<string, number> = Object.fromEntries(topicNames.map((t) => [t, 0]));
  readonly byInteractionType: Record<string, number> = {};
  private readonly recent: LiveEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly subscriber: Subscriber,
    private readonly options: { recentLimit?: number; tail?: (line: string) => void; onError?: (message: string) => void } = {},
  ) {}

  get backend(): string {
    return this.subscriber.backend;
  }

  async start(): Promise<void> {
    this.subscription = await this.subscriber.subscribe(topicNames, (event) => this.record(event), {
      group: "kaireon-demo-live-view",
      onError: (failure) => this.options.onError?.(`[demo] live view skipped a message: ${failure.error.message}`),
    });
  }

  private record(event: DomainEvent): void {
    this.counts[event.type] = (this.counts[event.type] ?? 0) + 1;
    if (event.type === "interaction.recorded.v1") {
      const key = event.data.interactionType;
      this.byInteractionType[key] = (this.byInteractionType[key] ?? 0) + 1;
    }
    const live: LiveEvent = {
      id: event.id,
      type: event.type,
      time: event.time,
      tenantId: event.data.tenantId,
      customerId: event.data.customerId,
      summary: summarize(event),
      data: event.data,
    };
    this.recent.push(live);
    if (this.recent.length > (this.options.recentLimit ?? 100)) this.recent.shift();
    this.options.tail?.(`${live.time}  ${live.type.padEnd(24)} ${live.tenantId}/${live.customerId}  ${live.summary}`);
    const totals = { counts: this.counts, byInteractionType: this.byInteractionType };
    for (const listener of this.listeners) {
      try {
        listener(live, totals);
      } catch {
        // A broken page connection must not stop the others.
      }
    }
  }

  snapshot(): LiveSnapshot {
    return {
      backend: this.subscriber.backend,
      counts: { ...this.counts },
      byInteractionType: { ...this.byInteractionType },
      recent: [...this.recent],
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
