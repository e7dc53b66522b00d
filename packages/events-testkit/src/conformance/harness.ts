// What every capability file of the conformance suite shares: the options a backend's test passes
// (its factories and the capabilities it honestly claims), and the harness each case runs on —
// a publisher and subscriptions that are closed after the suite, a tenant of its own per case.

import type { Publisher, SubscribeOptions, Subscriber, Subscription, TopicName } from "@kaireon/events-core";
import { uniqueTenant } from "../fixtures.js";
import { createEventSpy, type EventSpy } from "../spy.js";

export type Factory<T> = () => T | Promise<T>;

export interface ConformanceCapabilities {
  /** Events of one partition key arrive in publish order, also when published concurrently. */
  perKeyOrder: boolean;
  /** A new subscriber can read events published before it subscribed (`from: "earliest"`). */
  replay: boolean;
  /** `from: <Date>` starts at the first event at or after that time. */
  replayFromTime: boolean;
  /** The publish result says how many subscribers received the event (Redis pub/sub). */
  receivers: boolean;
}

export interface ConformanceOptions {
  /** Shown in the describe() title, e.g. `redis (pub/sub)`. */
  name: string;
  createPublisher: Factory<Publisher>;
  createSubscriber: Factory<Subscriber>;
  capabilities: ConformanceCapabilities;
  /** A publisher configured for an address where nothing listens; its publish must fail with a coded error. */
  createUnreachablePublisher?: Factory<Publisher>;
  /**
   * A publisher like createPublisher's whose queue bound (`*_MAX_QUEUED` / `REDIS_MAX_PENDING`) is
   * `maxQueued`: a publishBatch larger than the bound must still publish every event.
   */
  createQueueBoundPublisher: (maxQueued: number) => Publisher | Promise<Publisher>;
  /** Writes raw text where subscribers read (the backend's raw client), to test malformed messages. */
  injectRaw?: (topic: TopicName, raw: string) => Promise<void>;
  /** Extra subscribe options (e.g. a group per test is added automatically). */
  subscribeOptions?: SubscribeOptions;
  /** How long to wait for a message to arrive; default 20 s. */
  receiveTimeoutMs?: number;
  /** Wait after subscribe() before publishing, for backends whose subscription goes live late (default 0). */
  settleMs?: number;
}

export const bothTopics: TopicName[] = ["interaction.recorded.v1", "decision.made.v1"];

/** The harness a capability's cases run on (built once per describe block by describeConformance). */
export interface ConformanceHarness {
  options: ConformanceOptions;
  capabilities: ConformanceCapabilities;
  /** How long to wait for a message to arrive. */
  timeout: number;
  /** A publisher closed after the suite. */
  publisher(): Promise<Publisher>;
  /** A subscription with a spy, in a group of its own; closed after the suite. */
  subscribe(topics: TopicName[], extra?: SubscribeOptions): Promise<{ spy: EventSpy; subscription: Subscription; subscriber: Subscriber }>;
  /** Runs `cleanup` after the suite (last registered, first run). */
  register(cleanup: () => Promise<void>): void;
  /** Closes everything registered. */
  cleanup(): Promise<void>;
}

export function conformanceHarness(options: ConformanceOptions): ConformanceHarness {
  const cleanups: Array<() => Promise<void>> = [];
  const register = (cleanup: () => Promise<void>) => {
    cleanups.push(cleanup);
  };
  return {
    options,
    capabilities: options.capabilities,
    timeout: options.receiveTimeoutMs ?? 20_000,
    register,
    async publisher() {
      const p = await options.createPublisher();
      register(() => p.close());
      return p;
    },
    async subscribe(topics, extra = {}) {
      const subscriber: Subscriber = await options.createSubscriber();
      const spy = createEventSpy();
      const subscription: Subscription = await subscriber.subscribe(topics, spy.handler, {
        group: uniqueTenant("conformance"),
        ...options.subscribeOptions,
        ...extra,
        onError: spy.onError,
      });
      register(async () => {
        await subscription.close();
        await subscriber.close();
      });
      if (options.settleMs) await new Promise((r) => setTimeout(r, options.settleMs));
      return { spy, subscription, subscriber };
    },
    async cleanup() {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    },
  };
}

// A capability the backend does not claim is not tested at all (rather than shown as skipped):
// the describe() title lists what was claimed.
export const skip = (..._args: unknown[]) => {};
