// What the Redis backend prints about a server: the password is masked wherever the URL carries it
// (userinfo or query string, raw or %-encoded), in text and in the cause an error keeps.
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { describeServer, safeText, toEventsError } from "../../src/redis-client.js";
import { redisOptions } from "../../src/redis-options.js";

const SECRET = "q-Pa55/w@rd";
const url = `redis://127.0.0.1:6399?password=${encodeURIComponent(SECRET)}`;

describe("redis client text", () => {
  it("masks a password given in the query string, raw or encoded", () => {
    const options = redisOptions(url);
    const text = safeText(options, `AUTH ${SECRET} failed; url ${url}; ${encodeURIComponent(SECRET)}`);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(encodeURIComponent(SECRET));
    expect(describeServer(options)).toBe("redis://127.0.0.1:6399?password=***");
  });

  it("an error keeps a redacted copy of the ioredis error as its cause, never the original", () => {
    const options = redisOptions(url);
    // What ioredis gives for a refused AUTH: a ReplyError whose `command` holds the AUTH arguments.
    const replyError = Object.assign(new Error(`WRONGPASS invalid username-password pair (sent ${SECRET})`), {
      name: "ReplyError",
      command: { name: "auth", args: [SECRET] },
    });
    const error = toEventsError(options, replyError);
    expect(error.code).toBe("AUTH_FAILED");
    const everything = `${error.message}\n${inspect(error, { depth: 20, showHidden: true })}\n${JSON.stringify(error.cause)}`;
    expect(everything).not.toContain(SECRET);
    expect(error.cause).not.toBe(replyError);
    expect((error.cause as Error).message).toContain("WRONGPASS");
  });
});
