// The demo's own masking of the secrets in its environment (src/secrets.ts): what it applies to its
// logs, /health and start-up errors on top of what the packages redact themselves.
import { recordingLogger } from "@kaireon/events-testkit";
import { expect, it } from "vitest";
import { demoSecrets, redactDeep, redactError, redactingLogger } from "../../src/secrets.js";

const env = {
  DATABASE_URL: "postgres://kaireon:user-pass@127.0.0.1:5432/kaireon?password=q-secret%2Fx&sslmode=disable",
  REDIS_URL: "redis://127.0.0.1:6379/?password=r-secret",
  DEMO_LIVE_TOKEN: "live-token-0123456789",
};

it("finds userinfo and query passwords (raw and decoded) and the token; a blank REDIS_URL holds none", () => {
  const secrets = demoSecrets(env);
  expect(secrets).toEqual(expect.arrayContaining(["user-pass", "q-secret%2Fx", "q-secret/x", "r-secret", "live-token-0123456789"]));
  // REDIS_URL=" " disables the stream; it must not turn every space of every log line into ***.
  expect(demoSecrets({ REDIS_URL: " ", DATABASE_URL: "" })).toEqual([]);
});

it("masks log lines, their fields, /health bodies and an error's message, stack and cause", () => {
  const secrets = demoSecrets(env);
  const recorded = recordingLogger();
  const logger = redactingLogger(recorded, secrets);
  const lines = () => recorded.lines.map((l) => `${l.message} ${JSON.stringify(l.fields)}`);
  logger.error("cannot reach redis://127.0.0.1:6379/?password=r-secret", { url: env.DATABASE_URL });
  expect(lines().join("\n")).not.toMatch(/user-pass|q-secret|r-secret/);

  const body = redactDeep({ publisher: { ready: false, detail: `failed on ${env.REDIS_URL}` }, counts: { outbox: 10 } }, secrets);
  expect(body).toEqual({ publisher: { ready: false, detail: "failed on redis://127.0.0.1:6379/?password=***" }, counts: { outbox: 10 } });

  const error = redactError(
    new Error(`connect to ${env.DATABASE_URL} failed`, { cause: new Error("token live-token-0123456789") }),
    secrets,
  );
  expect(`${error.message} ${error.stack} ${(error.cause as Error).message}`).not.toMatch(/user-pass|q-secret|live-token/);
});
