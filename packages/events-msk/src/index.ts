// @kaireon/events-msk: EVENT_PUBLISHER=msk (or aws_msk). Amazon MSK through @kaireon/events-kafka, with
// IAM (SASL/OAUTHBEARER, cached and refreshed tokens) or SASL/SCRAM-SHA-512, over TLS.

import { defineBackend } from "@kaireon/events-core/backend";
import { createMskPublisher, createMskSubscriber } from "./msk-kafka.js";
import { type MskOptions, readMskOptions } from "./msk-options.js";

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
  createMskPublisher,
  createMskSubscriber,
  MSK_CLIENT_ID,
  type MskKafkaDeps,
  MskPublisher,
  MskSubscriber,
  mskErrorHints,
  toKafkaOptions,
} from "./msk-kafka.js";
export {
  DEFAULT_MSK_CONSUMER_GROUP_ID,
  DEFAULT_MSK_REGION,
  type MskAuthMode,
  type MskOptions,
  mskAuthModes,
  mskEnvSchema,
  readMskOptions,
} from "./msk-options.js";

export const backend = defineBackend<MskOptions>({
  id: "msk",
  fromEnv: (env) => readMskOptions(env),
  createPublisher: (options, context) => createMskPublisher(options, { source: context.source, logger: context.logger }),
  createSubscriber: (options, context) => createMskSubscriber(options, { logger: context.logger }),
});
