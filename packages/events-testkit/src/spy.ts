// A handler that records what it receives and lets a test wait for an event of a topic matching a
// predicate (instead of sleeping and hoping).

import type { DomainEvent, EventHandler, MessageContext, SubscriptionError, TopicName } from "@kaireon/events-core";

type Predicate = (event: DomainEvent) => boolean;

interface Waiter {
  match: (events: DomainEvent[]) => boolean;
  resolve: () => void;
}

export interface EventSpy {
  /** Pass this as the subscription handler. */
  readonly handler: EventHandler;
  /** Pass this as `onError`. */
  readonly onError: (failure: SubscriptionError) => void;
  readonly events: DomainEvent[];
  readonly contexts: MessageContext[];
  readonly errors: SubscriptionError[];
  /** The first received event of `topic` matching `predicate`; rejects after `timeoutMs`. */
  waitFor<T extends TopicName>(
    topic: T,
    predicate?: (event: Extract<DomainEvent, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<DomainEvent, { type: T }>>;
  /** Resolves once `count` received events match `predicate`. */
  waitForCount(count: number, predicate?: Predicate, timeoutMs?: number): Promise<DomainEvent[]>;
  /** Resolves once `count` errors were reported. */
  waitForErrors(count: number, timeoutMs?: number): Promise<SubscriptionError[]>;
}

export function createEventSpy(): EventSpy {
  const events: DomainEvent[] = [];
  const contexts: MessageContext[] = [];
  const errors: SubscriptionError[] = [];
  let waiters: Waiter[] = [];

  const check = () => {
    waiters = waiters.filter((w) => {
      if (!w.match(events)) return true;
      w.resolve();
      return false;
    });
  };

  function wait<R>(describe: string, match: () => boolean, result: () => R, timeoutMs: number): Promise<R> {
    if (match()) return Promise.resolve(result());
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `spy: timed out after ${timeoutMs} ms waiting for ${describe} (received ${events.length} events, ${errors.length} errors)`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        match: () => match(),
        resolve: () => {
          clearTimeout(timer);
          resolve(result());
        },
      };
      waiters.push(waiter);
    });
  }

  return {
    events,
    contexts,
    errors,
    handler: (event, context) => {
      events.push(event);
      contexts.push(context);
      check();
    },
    onError: (failure) => {
      errors.push(failure);
      check();
    },
    waitFor(topic, predicate = () => true, timeoutMs = 15_000) {
      const find = () => events.find((e) => e.type === topic && predicate(e as never)) as never;
      return wait(`an event of ${topic}`, () => find() !== undefined, find, timeoutMs);
    },
    waitForCount(count, predicate = () => true, timeoutMs = 15_000) {
      const matching = () => events.filter(predicate);
      return wait(`${count} matching events`, () => matching().length >= count, matching, timeoutMs);
    },
    waitForErrors(count, timeoutMs = 15_000) {
      return wait(
        `${count} errors`,
        () => errors.length >= count,
        () => errors,
        timeoutMs,
      );
    },
  };
}
