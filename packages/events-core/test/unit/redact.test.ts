import { describe, expect, it } from "vitest";
import { redactSecrets, redactUrl, urlSecrets } from "../../src/redact.js";

// ioredis and pg both take a password from the URL's query as well as from its userinfo.
const urls = [
  ["redis://:s3cr3t-A@127.0.0.1:6379/0", "s3cr3t-A"],
  ["redis://127.0.0.1:6379/0?password=s3cr3t-B", "s3cr3t-B"],
  ["rediss://default@cache.example:6380?db=1&password=s3cr3t%2FC", "s3cr3t/C"],
  ["postgres://kaireon@127.0.0.1:5432/kaireon?password=s3cr3t-D&sslmode=disable", "s3cr3t-D"],
  ["postgresql://u:s3cr3t-E@db/x?sslpassword=s3cr3t-F", "s3cr3t-F"],
  ["https://host/path?X-Amz-Signature=s3cr3t-G&X-Amz-Security-Token=s3cr3t-H", "s3cr3t-G"],
] as const;

describe("redactUrl", () => {
  it.each(urls)("masks every password in %s", (url, secret) => {
    const out = redactUrl(url);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out).toContain("***");
  });

  it("keeps what is not secret", () => {
    expect(redactUrl("postgres://kaireon@127.0.0.1:5432/kaireon?password=x&sslmode=disable")).toBe(
      "postgres://kaireon@127.0.0.1:5432/kaireon?password=***&sslmode=disable",
    );
    expect(redactUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
  });

  it("hides an unparseable URL whole", () => {
    expect(redactUrl("not a url :s3cr3t")).toBe("<unparseable url>");
  });
});

describe("urlSecrets + redactSecrets", () => {
  it.each(urls)("lists the secrets of %s so text built from it can be masked", (url, secret) => {
    const text = `connect to ${url} failed: bad password ${secret}`;
    const out = redactSecrets(text, urlSecrets(url));
    expect(out).not.toContain(secret);
  });

  it("has nothing to hide in a URL without secrets", () => {
    expect(urlSecrets("redis://127.0.0.1:6379/0?db=2")).toEqual([]);
    expect(urlSecrets(undefined)).toEqual([]);
  });
});
