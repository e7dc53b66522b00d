// The Kafka publisher with MSK's auth (msk-client.ts maps the options and the errors).

import type { EventsError } from "@kaireon/events-core/backend";
import { KafkaPublisher, type KafkaPublisherDeps } from "@kaireon/events-kafka";
import { forgetRefusedToken, type MskKafkaDeps, toKafkaOptions } from "./msk-client.js";
import type { MskIamTokenProvider } from "./msk-iam-token.js";
import type { MskOptions } from "./msk-options.js";

/** The Kafka publisher with MSK's auth; errors name the MSK variables (the Kafka options' hints). */
export class MskPublisher extends KafkaPublisher {
  readonly tokenProvider: MskIamTokenProvider | undefined;

  constructor(options: MskOptions, deps: KafkaPublisherDeps & MskKafkaDeps = {}) {
    const { kafka, tokenProvider } = toKafkaOptions(options, deps);
    super(kafka, { ...(deps.source ? { source: deps.source } : {}), ...(deps.logger ? { logger: deps.logger } : {}) });
    this.tokenProvider = tokenProvider;
  }

  protected override fail(error: unknown): EventsError {
    forgetRefusedToken(error, this.tokenProvider);
    return super.fail(error);
  }
}

export function createMskPublisher(options: MskOptions, deps: KafkaPublisherDeps & MskKafkaDeps = {}): MskPublisher {
  return new MskPublisher(options, deps);
}
