// The in-process backend: fan-out to subscribers of the same process. For tests and the embedded
// demo. It keeps the last `historyLimit` events so `from: "earliest"` or a time can replay them,
// and can be made to fail (`bus.setOutage(...)`) to test what happens when a broker is down.

import type { DomainEvent } from "./envelope.js";
import { ConnectionError, type EventsError } from "./errors.js";
import type { Logger, MessageContext, ReadinessReport, SubscribeOptions } from "./ports.js";
import { type Delivery, PublisherBase } from "./publisher-base.js";
import { type Inbox, SubscriberBase, type TransportSubscription } from "./subscriber-base.js";
import type { TopicName } from "./topics.js";

interface Listener {
  topics: ReadonlySet<TopicName>;
  deliver(event: DomainEvent, context: MessageContext): void;
}

export class MemoryBus {
  private readonly listeners = new Set<Listener>();
  private readonly history: Array<{ event: DomainEvent; offset: number; at: number }> = [];
  private offset = 0;
  private outage: EventsError | undefined;

  constructor(readonly historyLimit = 10_000) {}

  /** While set, every publish rejects with this error (default: a CONNECTION_FAILED). */
  setOutage(error: EventsError | boolean): void {
    this.outage =
      error === false
        ? undefined
        : error === true
          ? new ConnectionError({ backend: "memory", message: "[memory] simulated outage — call setOutage(false) to end it" })
          : error;
  }

  publish(event: DomainEvent): Delivery {
    if (this.outage) throw this.outage;
    const offset = this.offset++;
    this.history.push({ event, offset, at: Date.parse(event.time) });
    if (this.history.length > this.historyLimit) this.history.shift();
    let receivers = 0;
    const context: MessageContext = { source: event.type, position: String(offset) };
    for (const listener of this.listeners) {
      if (!listener.topics.has(event.type)) continue;
      receivers++;
      listener.deliver(event, context);
    }
    return { receivers, position: String(offset) };
  }

  attach(listener: Listener, from: SubscribeOptions["from"]): () => void {
    if (from !== undefined && from !== "latest") {
      const since = from === "earliest" ? Number.NEGATIVE_INFINITY : from.getTime();
      for (const { event, offset, at } of this.history) {
        if (at >= since && listener.topics.has(event.type)) listener.deliver(event, { source: event.type, position: String(offset) });
      }
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const globalKey = Symbol.for("@kaireon/events.memory-bus");

/** The process-wide bus that EVENT_PUBLISHER=memory uses, shared by every copy of core. */
export function defaultMemoryBus(): MemoryBus {
  const g = globalThis as Record<symbol, MemoryBus | undefined>;
  g[globalKey] ??= new MemoryBus();
  return g[globalKey];
}

export interface MemoryOptions {
  bus?: MemoryBus;
  source?: string;
  logger?: Logger;
}

export class MemoryPublisher extends PublisherBase {
  private readonly bus: MemoryBus;
  constructor(options: MemoryOptions = {}) {
    super({ backend: "memory", ...options });
    this.bus = options.bus ?? defaultMemoryBus();
  }
  protected deliver(event: DomainEvent): Promise<Delivery> {
    try {
      return Promise.resolve(this.bus.publish(event));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  ready(): Promise<ReadinessReport> {
    return Promise.resolve({ ready: true, backend: "memory" });
  }
}

export class MemorySubscriber extends SubscriberBase {
  private readonly bus: MemoryBus;

  constructor(options: MemoryOptions = {}) {
    super({ backend: "memory", logger: options.logger });
    this.bus = options.bus ?? defaultMemoryBus();
  }

  protected async open(inbox: Inbox): Promise<TransportSubscription> {
    // Handlers run one at a time per subscription, in publish order, like a broker consumer.
    let chain: Promise<unknown> = Promise.resolve();
    const detach = this.bus.attach(
      {
        topics: new Set(inbox.topics),
        deliver: (event, context) => {
          chain = chain.then(() => inbox.deliverEvent(event, context));
        },
      },
      inbox.options.from,
    );
    return {
      close: async () => {
        detach();
        await chain;
      },
    };
  }
}

export function createMemoryPublisher(options?: MemoryOptions): MemoryPublisher {
  return new MemoryPublisher(options);
}

export function createMemorySubscriber(options?: MemoryOptions): MemorySubscriber {
  return new MemorySubscriber(options);
}
