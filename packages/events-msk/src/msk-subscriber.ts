// The Kafka subscriber with MSK's auth (msk-client.ts maps the options and the errors).

import type { EventsError, SubscriberContext } from "@kaireon/events-core/backend";
import { KafkaSubscriber, type KafkaSubscriberOptions } from "@kaireon/events-kafka";
import { forgetRefusedToken, type MskAuthContext, toKafkaOptions } from "./msk-client.js";
import type { MskIamTokenProvider } from "./msk-iam-token.js";
import type { MskOptions } from "./msk-options.js";

/** The options, and the Kafka subscriber's own two: handler attempts and the backoff after a crash. */
export type MskSubscriberOptions = MskOptions & Pick<KafkaSubscriberOptions, "handlerAttempts" | "resubscribeBackoff">;

/** Core's SubscriberContext (logger) and the IAM token's source. */
export interface MskSubscriberContext extends SubscriberContext, MskAuthContext {}

/** The Kafka subscriber with MSK's auth; subscribe and crash errors name the MSK variables. */
export class MskSubscriber extends KafkaSubscriber {
  readonly tokenProvider: MskIamTokenProvider | undefined;

  constructor(options: MskSubscriberOptions, context: MskSubscriberContext = {}) {
    const { kafka, tokenProvider } = toKafkaOptions(options, context);
    const { handlerAttempts, resubscribeBackoff } = options;
    super(
      { ...kafka, ...(handlerAttempts ? { handlerAttempts } : {}), ...(resubscribeBackoff ? { resubscribeBackoff } : {}) },
      context.logger ? { logger: context.logger } : {},
    );
    this.tokenProvider = tokenProvider;
  }

  // Every client error of a subscription (subscribe, a consumer crash, a resubscribe) passes here.
  protected override toError(error: unknown, what: string): EventsError {
    const mapped = super.toError(error, what);
    forgetRefusedToken(mapped, this.tokenProvider);
    return mapped;
  }
}

export function createMskSubscriber(options: MskSubscriberOptions, context: MskSubscriberContext = {}): MskSubscriber {
  return new MskSubscriber(options, context);
}
