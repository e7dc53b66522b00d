// The MSK environment for the real Apache Kafka broker of tooling/services/kafka.sh. Its SCRAM-SHA-512
// user lives on a SASL_PLAINTEXT listener, so SCRAM runs without TLS here (MSK_TLS_ENABLED=false),
// while a real MSK cluster always adds TLS (port 9096). When the broker script also offers a SASL_SSL
// listener (KAFKA_TEST_SASL_TLS_BROKERS, signed by KAFKA_TEST_TLS_CA_FILE), SCRAM runs over TLS as on MSK.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { requireService, silentLogger, uniqueName } from "@kaireon/events-testkit";

function need(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run through tooling/with-services.sh (KAIREON_SERVICES=kafka,moto), which starts the broker`);
  return value;
}

/** A topic prefix no other test file or run uses. */
export function uniquePrefix(name: string): string {
  return `${uniqueName(`test-msk-${name}`)}.`;
}

/** What an operator would put in the environment for MSK in SCRAM mode, pointed at the test broker. */
export async function scramEnv(topicPrefix: string): Promise<Record<string, string>> {
  await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  const tlsBrokers = process.env.KAFKA_TEST_SASL_TLS_BROKERS;
  const transport: Record<string, string> = tlsBrokers
    ? { MSK_BROKERS: tlsBrokers, MSK_TLS_ENABLED: "true", MSK_TLS_CA_FILE: need("KAFKA_TEST_TLS_CA_FILE") }
    : { MSK_BROKERS: need("KAFKA_TEST_SASL_BROKERS"), MSK_TLS_ENABLED: "false" };
  return {
    EVENT_PUBLISHER: "aws_msk",
    ...transport,
    MSK_AUTH_MODE: "sasl_scram",
    MSK_SASL_USERNAME: need("KAFKA_TEST_SCRAM_USERNAME"),
    MSK_SASL_PASSWORD: need("KAFKA_TEST_SCRAM_PASSWORD"),
    MSK_TOPIC_PREFIX: topicPrefix,
    MSK_REGION: "eu-west-1",
  };
}

export const quiet = silentLogger;

/** `SCRAM-SHA-512 over TLS` or `SCRAM-SHA-512 without TLS`, for test titles. */
export function scramTransport(): string {
  return process.env.KAFKA_TEST_SASL_TLS_BROKERS
    ? "SCRAM-SHA-512 over TLS"
    : "SCRAM-SHA-512 without TLS (the broker's SASL_PLAINTEXT listener)";
}

/**
 * The broker's MSK IAM listener (tooling/services/kafka.sh: KAFKA_TEST_IAM_*): SASL_SSL with OAUTHBEARER
 * checked by tooling/msk-iam-validator, which recomputes each token's SigV4 signature with the AWS SDK
 * for Java's signer against the keys it knows (the long-term test key, the AWS emulator's STS sessions
 * and IAM keys, files in KAFKA_TEST_IAM_CREDENTIALS_DIR).
 */
export interface IamListener {
  brokers: string;
  reauthBrokers: string;
  reauthMs: number;
  region: string;
  caFile: string;
  accessKeyId: string;
  secretAccessKey: string;
  credentialsDir: string;
}

export async function iamListener(): Promise<IamListener> {
  await requireService({ variable: "KAFKA_BROKERS", name: "Apache Kafka broker" });
  return {
    brokers: need("KAFKA_TEST_IAM_BROKERS"),
    reauthBrokers: need("KAFKA_TEST_IAM_REAUTH_BROKERS"),
    reauthMs: Number(need("KAFKA_TEST_IAM_REAUTH_MS")),
    region: need("KAFKA_TEST_IAM_REGION"),
    caFile: need("KAFKA_TEST_TLS_CA_FILE"),
    accessKeyId: need("KAFKA_TEST_IAM_ACCESS_KEY_ID"),
    secretAccessKey: need("KAFKA_TEST_IAM_SECRET_ACCESS_KEY"),
    credentialsDir: need("KAFKA_TEST_IAM_CREDENTIALS_DIR"),
  };
}

/** What an operator would put in the environment for MSK in IAM mode, pointed at the IAM listener. */
export function iamEnv(iam: IamListener, topicPrefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    EVENT_PUBLISHER: "aws_msk",
    MSK_BROKERS: iam.brokers,
    MSK_AUTH_MODE: "iam_role",
    MSK_TLS_CA_FILE: iam.caFile,
    MSK_REGION: iam.region,
    MSK_TOPIC_PREFIX: topicPrefix,
    ...extra,
  };
}

/**
 * The default credential chain's first link: the environment. Points it at the validator's long-term
 * test key (and away from any session token or profile of the caller) for this test file's process.
 */
export function useIamTestKey(iam: IamListener): void {
  process.env.AWS_ACCESS_KEY_ID = iam.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = iam.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

/**
 * The Kafka clients events-kafka offers (`kafkaClients`, picked with MSK_CLIENT), and the variables
 * that pick one; a build of it without the choice runs kafkajs only, and MSK_CLIENT is not set.
 */
export async function mskClients(): Promise<{ name: string; env: Record<string, string> }[]> {
  const kafka = (await import("@kaireon/events-kafka")) as Record<string, unknown>;
  const names = kafka.kafkaClients as readonly string[] | undefined;
  return names ? names.map((name) => ({ name, env: { MSK_CLIENT: name } })) : [{ name: "kafkajs", env: {} }];
}

/**
 * A recorder in front of the AWS emulator's STS (point AWS_ENDPOINT_URL_STS at it): it forwards each
 * request to moto and registers the credentials every AssumeRole answer carries — key, secret, session
 * token, expiry, role session ARN — with the IAM listener's validator (KAFKA_TEST_IAM_CREDENTIALS_DIR),
 * as STS tells MSK. (The validator can also read them from moto's /moto-api/data.json, but that dumps
 * every service's state — tens of MB once the Kinesis and SQS tests ran — on each new key.)
 */
export async function startStsRecorder(
  iam: IamListener,
  emulator: string,
): Promise<{ endpoint: string; registered: () => number; close: () => Promise<void> }> {
  const { createServer } = await import("node:http");
  let registered = 0;
  const field = (text: string, name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(text)?.[1];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      try {
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "host" && k !== "content-length")) as Record<
          string,
          string
        >;
        const upstream = await fetch(new URL(req.url ?? "/", emulator), {
          method: req.method ?? "POST",
          headers,
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
          signal: AbortSignal.timeout(15_000),
        });
        const body = await upstream.text();
        const id = field(body, "AccessKeyId");
        const secretAccessKey = field(body, "SecretAccessKey");
        if (id && secretAccessKey) {
          registerCredentials(iam, {
            accessKeyId: id,
            secretAccessKey,
            sessionToken: field(body, "SessionToken"),
            expiration: new Date(field(body, "Expiration") ?? ""),
            ...(field(body, "Arn") ? { principal: field(body, "Arn") as string } : {}),
          });
          registered++;
        }
        res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "text/xml" });
        res.end(body);
      } catch (error) {
        res.writeHead(502).end(String((error as Error).message));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    registered: () => registered,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Credentials STS issued, as the IAM listener's validator needs them (what STS would tell MSK). */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration: Date;
  principal?: string;
}

/** Tells the IAM listener's validator about credentials STS issued: their secret, session token and expiry. */
export function registerCredentials(iam: IamListener, c: IssuedCredentials): void {
  writeFileSync(
    join(iam.credentialsDir, `${c.accessKeyId}.json`),
    JSON.stringify({
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
      expiration: c.expiration.toISOString(),
      principal: c.principal,
    }),
    { mode: 0o600 },
  );
}

/**
 * Role credentials from the AWS emulator's STS that last `seconds` (moto has no 900 s minimum),
 * registered with the validator with that expiry: a token they sign lives at most that long, and the
 * broker refuses it afterwards. Returns a function that assumes the role again each call.
 */
export function shortRoleCredentials(
  iam: IamListener,
  emulator: string,
  role: { name: string; sessionName: string; seconds: number },
): () => Promise<IssuedCredentials> {
  const sts = new STSClient({
    endpoint: emulator,
    region: iam.region,
    credentials: { accessKeyId: "AKIAKAIREONCALLER001", secretAccessKey: "moto-does-not-verify" },
  });
  return async () => {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::123456789012:role/${role.name}`,
        RoleSessionName: role.sessionName,
        DurationSeconds: role.seconds,
      }),
    );
    const c = out.Credentials as { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: Date };
    const issued: IssuedCredentials = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
      ...(out.AssumedRoleUser?.Arn ? { principal: out.AssumedRoleUser.Arn } : {}),
    };
    registerCredentials(iam, issued);
    return issued;
  };
}

/** The query of an MSK IAM token (a base64url presigned URL). */
export function decodeToken(token: string): URLSearchParams {
  return new URL(Buffer.from(token, "base64url").toString("utf8")).searchParams;
}
