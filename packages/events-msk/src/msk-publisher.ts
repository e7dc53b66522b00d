// The Kafka publisher with MSK's auth (msk-client.ts maps the options and the errors).

import type { EventsError, PublisherContext } from "@kaireon/events-core/backend";
import { KafkaPublisher } from "@kaireon/events-kafka";
import { forgetRefusedToken, type MskAuthContext, toKafkaOptions } from "./msk-client.js";
import type { MskIamTokenProvider } from "./msk-iam-token.js";
import type { MskOptions } from "./msk-options.js";

/** Core's PublisherContext (source, logger) and the IAM token's source. */
export interface MskPublisherContext extends PublisherContext, MskAuthContext {}

/** The Kafka publisher with MSK's auth; errors name the MSK variables (the Kafka options' hints). */
export class MskPublisher extends KafkaPublisher {
  readonly tokenProvider: MskIamTokenProvider | undefined;

  constructor(options: MskOptions, context: MskPublisherContext = {}) {
    const { kafka, tokenProvider } = toKafkaOptions(options, context);
    super(kafka, context);
    this.tokenProvider = tokenProvider;
  }

  protected override fail(error: unknown): EventsError {
    forgetRefusedToken(error, this.tokenProvider);
    return super.fail(error);
  }
}

export function createMskPublisher(options: MskOptions, context: MskPublisherContext = {}): MskPublisher {
  return new MskPublisher(options, context);
}
