// @kaireon/events-msk: EVENT_PUBLISHER=msk (or aws_msk). Amazon MSK through @kaireon/events-kafka, with
// IAM (SASL/OAUTHBEARER, cached and refreshed tokens) or SASL/SCRAM-SHA-512, over TLS.

import { defineBackend } from "@kaireon/events-core/backend";
import { type MskOptions, readMskOptions } from "./msk-options.js";
import { createMskPublisher } from "./msk-publisher.js";
import { createMskSubscriber } from "./msk-subscriber.js";

export { MSK_CLIENT_ID, type MskAuthContext, mskErrorHints, toKafkaOptions } from "./msk-client.js";
export {
  createMskIamTokenProvider,
  DEFAULT_MIN_VALIDITY_MS,
  DEFAULT_REFRESH_MARGIN_MS,
  DEFAULT_REFRESH_TIMEOUT_MS,
  DEFAULT_ROLE_SESSION_NAME,
  MskIamTokenProvider,
  type MskIamTokenProviderOptions,
  type MskSignedToken,
  type MskToken,
  type MskTokenGenerator,
  type MskTokenRequest,
  type MskTokenStats,
  signerTokenGenerator,
} from "./msk-iam-token.js";
export {
  DEFAULT_MSK_CLIENT,
  DEFAULT_MSK_CONSUMER_GROUP_ID,
  DEFAULT_MSK_REGION,
  type MskAuthMode,
  type MskKafkaTuning,
  type MskOptions,
  mskAuthModes,
  mskEnvSchema,
  mskOptions,
  readMskOptions,
} from "./msk-options.js";
export { createMskPublisher, MskPublisher, type MskPublisherContext } from "./msk-publisher.js";
export { createMskSubscriber, MskSubscriber, type MskSubscriberContext, type MskSubscriberOptions } from "./msk-subscriber.js";

export const backend = defineBackend<MskOptions>({
  id: "msk",
  fromEnv: (env) => readMskOptions(env),
  createPublisher: (options, context) => createMskPublisher(options, { source: context.source, logger: context.logger }),
  createSubscriber: (options, context) => createMskSubscriber(options, { logger: context.logger }),
});
