export {
  createMskIamTokenProvider,
  DEFAULT_MIN_VALIDITY_MS,
  DEFAULT_REFRESH_MARGIN_MS,
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
  DEFAULT_MSK_CONSUMER_GROUP_ID,
  DEFAULT_MSK_REGION,
  type MskAuthMode,
  type MskOptions,
  mskAuthModes,
  mskEnvSchema,
  readMskOptions,
} from "./msk-options.js";
