// The IAM auth token for MSK's SASL/OAUTHBEARER listener (port 9098). aws-msk-iam-sasl-signer-js makes
// a SigV4-presigned `kafka-cluster:Connect` URL; it does not cache, and a token lives at most 15 min,
// less when the credentials that signed it expire sooner. kafkajs asks for a token on every
// (re)authentication — each new connection, and each re-authentication when the broker sent a
// session lifetime — so this provider caches the token, refreshes it before either expiry (one
// refresh at a time, however many connections ask), and never hands out an expired token. A client
// open for days keeps authenticating (the signer's issue #21: failures after 24–30 h with tokens
// that outlived their credentials). kafkajs holds a broker's lock while it waits for the token, so a
// refresh is bounded (refreshTimeoutMs), and nobody waits on one while the cached token is still good.

import { authFailedError, type ConnectionError, type Logger, silentLogger } from "@kaireon/events-core/backend";

/** What the signer returns: the base64url token and when it expires (ms since epoch). */
export interface MskSignedToken {
  token: string;
  expiryTime: number;
}

export interface MskTokenRequest {
  region: string;
  roleArn?: string;
  roleSessionName: string;
  /**
   * Each STS request of the credential source (AssumeRole, web identity) gives up after this many
   * ms: the provider's refreshTimeoutMs. A call the provider gave up on then ends by itself,
   * instead of holding its socket for as long as the network lets it hang.
   */
  requestTimeoutMs: number;
}

export type MskTokenGenerator = (request: MskTokenRequest) => Promise<MskSignedToken>;

export interface MskIamTokenProviderOptions {
  region: string;
  /** Assume this role (STS AssumeRole) for each token; unset: the default credential chain. */
  roleArn?: string;
  /** The STS session name when assuming `roleArn` (shows in CloudTrail). Default `kaireon-events`. */
  roleSessionName?: string;
  /**
   * Refresh this long before the token expires (default 3 min, as the MSK signers for other
   * languages do). For a short-lived token (credentials about to expire) at most half its lifetime.
   */
  refreshMarginMs?: number;
  /**
   * A token with less than this left is never handed out (default 10 s: kafkajs re-authenticates 10 s
   * before a session ends). A token is refreshed at the latest when this much of it is left; one that
   * lives less than this from the start is refused (AUTH_FAILED), so every request signs anew.
   */
  minValidityMs?: number;
  /**
   * A signer call (STS, the instance/container credential endpoint) that has not answered within this
   * many ms fails with AUTH_FAILED (`details.timedOut`); the next request signs again. Default 10 s.
   */
  refreshTimeoutMs?: number;
  /** The clock; injectable for tests. */
  now?: () => number;
  /** Makes a token; default: aws-msk-iam-sasl-signer-js. Injectable for tests. */
  generate?: MskTokenGenerator;
  logger?: Logger;
}

export interface MskToken {
  /** The bearer value kafkajs sends. A credential: never log it. */
  value: string;
  expiresAt: number;
  /** From this time on the next request makes a new token. */
  refreshAt: number;
}

export interface MskTokenStats {
  /** Tokens made by the signer. */
  generated: number;
  /** Tokens handed out (kafkajs authentications). */
  served: number;
  /** Signer failures (a still-valid cached token may have been served instead). */
  failures: number;
  /** Signer calls given up on (refreshTimeoutMs) that have not ended yet. */
  unanswered: number;
}

export const DEFAULT_REFRESH_MARGIN_MS = 180_000;
export const DEFAULT_MIN_VALIDITY_MS = 10_000;
export const DEFAULT_REFRESH_TIMEOUT_MS = 10_000;
export const DEFAULT_ROLE_SESSION_NAME = "kaireon-events";

type SignerModules = [typeof import("aws-msk-iam-sasl-signer-js"), typeof import("@aws-sdk/credential-providers")];
let signerModule: Promise<SignerModules> | undefined;
/** The signer and the AWS SDK's credential providers, imported on first use so SCRAM-mode apps never load the AWS SDK. */
const loadSigner = () => {
  signerModule ??= Promise.all([import("aws-msk-iam-sasl-signer-js"), import("@aws-sdk/credential-providers")]);
  return signerModule;
};

/** AWS credentials as the SDK's providers return them. */
export interface MskAwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/**
 * Signs a token with the signer and these credentials. The signer sets X-Amz-Expires to the
 * credentials' remaining life when that is under 15 min — a fraction of a second included
 * ("X-Amz-Expires=30.499"), which SigV4 does not allow (an integer) and the AWS SDK for Java's signer
 * cannot produce, so a broker that verifies with it refuses the token. So the signer is shown the
 * credentials without their expiry (X-Amz-Expires=900, as MSK's other signers write it) and the
 * token's expiry is capped here at the credentials' — as the broker caps the session at it.
 */
export async function signMskToken(region: string, credentials: () => Promise<MskAwsCredentials>): Promise<MskSignedToken> {
  const [signer] = await loadSigner();
  let expiration: Date | undefined;
  const signed = await signer.generateAuthTokenFromCredentialsProvider({
    region,
    awsCredentialsProvider: async () => {
      const { expiration: until, ...rest } = await credentials();
      expiration = until;
      return rest;
    },
  });
  return { token: signed.token, expiryTime: expiration ? Math.min(signed.expiryTime, expiration.getTime()) : signed.expiryTime };
}

/** The signer's retry count for its credential sources (aws-msk-iam-sasl-signer-js DEFAULT_MAX_RETRIES). */
const SIGNER_MAX_ATTEMPTS = 3;

/**
 * The default generator: the signer, loaded on first use so SCRAM-mode apps never load the AWS SDK.
 * The credential sources are the ones the signer's generateAuthTokenFromRole / generateAuthToken use
 * (AssumeRole; the default chain), with the same retries, but each STS request (AssumeRole, web
 * identity) is bounded: the signer sets no bound, so an STS call on a black-holed link hung until
 * TCP gave up, one more socket for every refresh attempt of a long outage.
 */
export const signerTokenGenerator: MskTokenGenerator = async ({ region, roleArn, roleSessionName, requestTimeoutMs }) => {
  const [, credentialProviders] = await loadSigner();
  const clientConfig = {
    region,
    maxAttempts: SIGNER_MAX_ATTEMPTS,
    // throwOnRequestTimeout: without it the handler only logs a warning and the request goes on waiting.
    requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: requestTimeoutMs, throwOnRequestTimeout: true },
  };
  const credentials = roleArn
    ? credentialProviders.fromTemporaryCredentials({ params: { RoleArn: roleArn, RoleSessionName: roleSessionName }, clientConfig })
    : // Instance/container metadata keeps the SDK's own 1 s timeout: its IMDSv2 → v1 fallback waits
      // for that timeout, which must stay far below refreshTimeoutMs. The STS clients are bounded.
      credentialProviders.fromNodeProviderChain({ maxRetries: SIGNER_MAX_ATTEMPTS, roleSessionName, clientConfig });
  return signMskToken(region, credentials);
};

export class MskIamTokenProvider {
  private readonly request: MskTokenRequest;
  private readonly refreshMarginMs: number;
  private readonly minValidityMs: number;
  private readonly refreshTimeoutMs: number;
  private readonly now: () => number;
  private readonly generate: MskTokenGenerator;
  private readonly logger: Logger;
  private current: MskToken | undefined;
  private inflight: Promise<MskToken> | undefined;
  private readonly counts: MskTokenStats = { generated: 0, served: 0, failures: 0, unanswered: 0 };

  constructor(options: MskIamTokenProviderOptions) {
    this.refreshTimeoutMs = options.refreshTimeoutMs ?? DEFAULT_REFRESH_TIMEOUT_MS;
    this.request = {
      region: options.region,
      roleSessionName: options.roleSessionName ?? DEFAULT_ROLE_SESSION_NAME,
      requestTimeoutMs: this.refreshTimeoutMs,
      ...(options.roleArn ? { roleArn: options.roleArn } : {}),
    };
    this.refreshMarginMs = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
    this.minValidityMs = options.minValidityMs ?? DEFAULT_MIN_VALIDITY_MS;
    this.now = options.now ?? Date.now;
    this.generate = options.generate ?? signerTokenGenerator;
    this.logger = options.logger ?? silentLogger;
  }

  /** kafkajs `sasl.oauthBearerProvider`. Bound, so it can be passed as is. */
  readonly oauthBearerProvider = async (): Promise<{ value: string }> => ({ value: (await this.token()).value });

  /**
   * A token valid for at least `minValidityMs`. Once the cached one is due for refresh but still
   * valid, it is served at once and the refresh runs in the background (bounded by refreshTimeoutMs;
   * a failure is logged and the next request tries again): kafkajs holds a broker's lock while it
   * waits here, so a slow STS must not stall an authentication that has a good token. Only when no
   * valid token is cached does the request wait for the signer.
   */
  async token(): Promise<MskToken> {
    const cached = this.current;
    if (cached && this.now() < cached.refreshAt) return this.serve(cached);
    if (cached && this.usable(cached)) {
      this.refreshInBackground(cached);
      return this.serve(cached);
    }
    return this.serve(await this.refresh());
  }

  /** Starts (or joins) the refresh without waiting for it; its failure is logged, never thrown. */
  private refreshInBackground(cached: MskToken): void {
    if (this.inflight) return;
    this.refresh().catch((error: unknown) => {
      // STS or the credential source hiccuped: the cached token still works until it expires.
      this.logger.warn("[msk] IAM token refresh failed; using the cached token until it expires", {
        expiresInMs: cached.expiresAt - this.now(),
        error: (error as Error)?.message,
      });
    });
  }

  /** Forget the cached token (e.g. after the broker rejected it); the next request makes a new one. */
  invalidate(): void {
    this.current = undefined;
  }

  stats(): MskTokenStats {
    return { ...this.counts };
  }

  private serve(token: MskToken): MskToken {
    this.counts.served++;
    return token;
  }

  private usable(token: MskToken): boolean {
    return token.expiresAt - this.now() >= this.minValidityMs;
  }

  // Single flight: concurrent (re)connections to several brokers share one signer call.
  private refresh(): Promise<MskToken> {
    if (this.inflight) return this.inflight;
    const attempt = this.makeToken().finally(() => {
      if (this.inflight === attempt) this.inflight = undefined;
    });
    this.inflight = attempt;
    return attempt;
  }

  /** The signer's answer; AUTH_FAILED when it fails, or once refreshTimeoutMs passed (a late answer is dropped). */
  private async sign(): Promise<MskSignedToken> {
    const limit = this.refreshTimeoutMs;
    // Loading the AWS SDK (first token only, seconds on a busy host) is not the signer being slow.
    if (this.generate === signerTokenGenerator) {
      try {
        await loadSigner();
      } catch (error) {
        this.counts.failures++;
        throw this.authError(`could not load aws-msk-iam-sasl-signer-js: ${(error as Error)?.message ?? String(error)}`, error);
      }
    }
    return new Promise<MskSignedToken>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        this.counts.failures++;
        this.counts.unanswered++;
        reject(
          this.authError(
            `the IAM auth token signer did not answer within ${limit} ms (STS or the credential source is slow or unreachable)`,
            undefined,
            { timedOut: true, timeoutMs: limit },
          ),
        );
      }, limit);
      // A hung signer must not keep the process alive on its own.
      timer.unref?.();
      Promise.resolve()
        .then(() => this.generate(this.request))
        .then(resolve, (error: unknown) => {
          if (timedOut) return;
          this.counts.failures++;
          reject(this.authError(`could not sign an IAM auth token: ${(error as Error)?.message ?? String(error)}`, error));
        })
        .finally(() => {
          clearTimeout(timer);
          if (timedOut) this.counts.unanswered--;
        });
    });
  }

  private async makeToken(): Promise<MskToken> {
    const issuedAt = this.now();
    const signed = await this.sign();
    if (typeof signed?.token !== "string" || signed.token === "" || !Number.isFinite(signed.expiryTime)) {
      this.counts.failures++;
      throw this.authError("the signer returned no token");
    }
    // Refresh at the margin, or half-way for a short token, but never later than minValidityMs before
    // the end: past that the cached token may not be served, so it must not be served as current.
    const lifetime = Math.max(0, signed.expiryTime - issuedAt);
    const token: MskToken = {
      value: signed.token,
      expiresAt: signed.expiryTime,
      refreshAt: signed.expiryTime - Math.max(this.minValidityMs, Math.min(this.refreshMarginMs, lifetime / 2)),
    };
    if (!this.usable(token)) {
      this.counts.failures++;
      // The signer caps the token at the credentials' expiry: these credentials are (nearly) expired.
      throw this.authError(
        `the new IAM auth token expires in ${Math.round((token.expiresAt - this.now()) / 1000)} s — the AWS credentials are expired or about to; refresh them (or their source: role, profile, instance/container credentials)`,
      );
    }
    this.counts.generated++;
    this.current = token;
    return token;
  }

  private authError(reason: string, cause?: unknown, details: Record<string, unknown> = {}): ConnectionError {
    const role = this.request.roleArn ? `assuming ${this.request.roleArn}` : "with the default credential chain";
    return authFailedError({
      backend: "msk",
      message: `[msk] ${reason} (region ${this.request.region}, ${role}) — check the AWS credentials, MSK_REGION and MSK_ROLE_ARN`,
      ...(cause === undefined ? {} : { cause }),
      details: { region: this.request.region, ...details },
    });
  }
}

export function createMskIamTokenProvider(options: MskIamTokenProviderOptions): MskIamTokenProvider {
  return new MskIamTokenProvider(options);
}
