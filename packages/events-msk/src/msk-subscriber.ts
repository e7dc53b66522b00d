// The Kafka subscriber with MSK's auth (msk-client.ts maps the options and the errors).

import type { EventsError } from "@kaireon/events-core/backend";
import { KafkaSubscriber, type KafkaSubscriberDeps } from "@kaireon/events-kafka";
import { forgetRefusedToken, type MskKafkaDeps, toKafkaOptions } from "./msk-client.js";
import type { MskIamTokenProvider } from "./msk-iam-token.js";
import type { MskOptions } from "./msk-options.js";

/** The Kafka subscriber with MSK's auth; subscribe and crash errors name the MSK variables. */
export class MskSubscriber extends KafkaSubscriber {
  readonly tokenProvider: MskIamTokenProvider | undefined;

  constructor(options: MskOptions, deps: MskKafkaDeps & Pick<KafkaSubscriberDeps, "handlerAttempts" | "resubscribeBackoff"> = {}) {
    const { kafka, tokenProvider } = toKafkaOptions(options, deps);
    super(kafka, {
      ...(deps.logger ? { logger: deps.logger } : {}),
      ...(deps.handlerAttempts ? { handlerAttempts: deps.handlerAttempts } : {}),
      ...(deps.resubscribeBackoff ? { resubscribeBackoff: deps.resubscribeBackoff } : {}),
    });
    this.tokenProvider = tokenProvider;
  }

  // Every client error of a subscription (subscribe, a consumer crash, a resubscribe) passes here.
  protected override toError(error: unknown, what: string): EventsError {
    const mapped = super.toError(error, what);
    forgetRefusedToken(mapped, this.tokenProvider);
    return mapped;
  }
}

export function createMskSubscriber(
  options: MskOptions,
  deps: MskKafkaDeps & Pick<KafkaSubscriberDeps, "handlerAttempts" | "resubscribeBackoff"> = {},
): MskSubscriber {
  return new MskSubscriber(options, deps);
}
