// The command line without a backend: exit codes, --help/--version, bad flags, input parsing,
// masking and the readable line. main() is called with in-memory streams (the same path as the bin).

import { PassThrough } from "node:stream";
import { createEvent } from "@kaireon/events-core";
import { sampleDecision, sampleInteraction } from "@kaireon/events-testkit";
import { describe, expect, it } from "vitest";
import { parseFrom } from "../../src/cli-args.js";
import { maskOptions, maskValue, relevantEnv } from "../../src/cli-env.js";
import { eventLine } from "../../src/cli-format.js";
import { splitInput } from "../../src/cli-input.js";
import { painter } from "../../src/cli-io.js";
import { main } from "../../src/index.js";

async function run(argv: string[], env: Record<string, string> = {}, input = "") {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d) => {
    out += d;
  });
  stderr.on("data", (d) => {
    err += d;
  });
  stdin.end(input);
  const code = await main(argv, { stdin, stdout, stderr, env, cwd: process.cwd(), signal: new AbortController().signal });
  return { code, out, err };
}

describe("main", () => {
  it("--version prints the package version; --help every command", async () => {
    expect((await run(["--version"])).out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const c of ["tail", "publish", "check", "schema", "outbox", "replay"]) {
      expect(help.out).toContain(`  ${c} `);
      const own = await run([c, "--help"]);
      expect(own.code).toBe(0);
      expect(own.out).toContain(`Usage: kaireon-events ${c}`);
    }
  });

  it("no command, an unknown command and an unknown flag are exit 2, one line, no stack", async () => {
    expect((await run([])).code).toBe(2);
    const unknown = await run(["tial"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('"tial" is not a command');
    const flag = await run(["tail", "--form", "earliest"]);
    expect(flag.code).toBe(2);
    expect(flag.err).toContain("tail: Unknown option '--form'");
    expect(flag.err).not.toContain("    at ");
  });

  it("bad values are exit 2 naming the flag", async () => {
    expect((await run(["tail", "--from", "yesterday"])).err).toContain('--from "yesterday" is not an RFC 3339 time');
    expect((await run(["tail", "--count", "0"])).err).toContain('--count "0" must be a whole number');
    expect((await run(["tail", "nope.v1"])).err).toContain('unknown topic "nope.v1"');
    expect((await run(["publish"])).code).toBe(2);
  });

  it("EVENT_PUBLISHER that is not a backend: CONFIG_INVALID, exit 1", async () => {
    const r = await run(["publish", "decision.made.v1"], { EVENT_PUBLISHER: "rabbit" }, JSON.stringify(sampleDecision()));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^CONFIG_INVALID: \[core\] EVENT_PUBLISHER="rabbit" is not a backend/);
  });

  it("publish on the in-memory backend validates first: an invalid line sends nothing (exit 2)", async () => {
    const ok = await run(
      ["publish", "decision.made.v1"],
      { EVENT_PUBLISHER: "memory" },
      `${JSON.stringify(sampleDecision())}\n${JSON.stringify(sampleDecision())}\n`,
    );
    expect(ok.code).toBe(0);
    expect(ok.out.trim().split("\n")).toHaveLength(2);
    const bad = await run(
      ["publish", "decision.made.v1"],
      { EVENT_PUBLISHER: "memory" },
      `${JSON.stringify(sampleDecision())}\n{"tenantId":"t"}\n`,
    );
    expect(bad.code).toBe(2);
    expect(bad.out).toBe("");
    expect(bad.err).toContain("line 2: data.customerId:");
  });

  it("a whole CloudEvent of another topic is refused with its line", async () => {
    const event = createEvent("interaction.recorded.v1", sampleInteraction());
    const r = await run(["publish", "decision.made.v1"], { EVENT_PUBLISHER: "memory" }, JSON.stringify(event));
    expect(r.code).toBe(2);
    expect(r.err).toContain("line 1: type: is interaction.recorded.v1, not decision.made.v1");
  });

  it("schema: one topic, all, and the AsyncAPI document", async () => {
    const one = await run(["schema", "decision.made.v1"]);
    expect(JSON.parse(one.out)).toMatchObject({
      type: "object",
      properties: { type: { const: "decision.made.v1" }, data: { properties: { decisionFlowKey: expect.any(Object) } } },
    });
    expect(Object.keys(JSON.parse((await run(["schema"])).out))).toEqual(["interaction.recorded.v1", "decision.made.v1"]);
    const asyncapi = await run(["schema", "--format", "asyncapi"]);
    expect(asyncapi.code).toBe(0);
    const doc = JSON.parse(asyncapi.out);
    expect(doc).toMatchObject({ asyncapi: "3.0.0", info: { version: expect.stringMatching(/^\d+\.\d+\.\d+/) } });
    expect(JSON.stringify(doc.channels)).toContain("interaction.recorded.v1");
    expect((await run(["schema", "decision.made.v1", "--format", "asyncapi"])).code).toBe(2);
    expect((await run(["schema", "--format", "yaml"])).code).toBe(2);
  });

  it("outbox without a store or subcommand is exit 2", async () => {
    expect((await run(["outbox", "status"])).err).toContain("pass --sqlite <file> or set DATABASE_URL");
    expect((await run(["outbox", "purge"])).code).toBe(2);
  });
});

describe("input", () => {
  it("one pretty-printed JSON value, an array, or NDJSON with blank lines", () => {
    expect(splitInput('{\n  "a": 1\n}\n')).toEqual([{ where: "line 1", value: { a: 1 } }]);
    expect(splitInput("[1, 2]").map((i) => i.where)).toEqual(["item 1", "item 2"]);
    const nd = splitInput('{"a":1}\n\n{"a":2}\nnope\n');
    expect(nd.map((i) => i.where)).toEqual(["line 1", "line 3", "line 4"]);
    expect(nd[2]?.problem).toMatch(/^not JSON/);
  });
});

describe("masking", () => {
  it("masks variables by name and URLs by their userinfo and query", () => {
    expect(maskValue("KAFKA_SASL_PASSWORD", "hunter2")).toBe("***");
    expect(maskValue("AWS_SECRET_ACCESS_KEY", "abc")).toBe("***");
    expect(maskValue("AWS_SESSION_TOKEN", "abc")).toBe("***");
    expect(maskValue("REDIS_URL", "redis://:pw@h:6379")).toBe("redis://:***@h:6379");
    expect(maskValue("DATABASE_URL", "postgres://u@h/db?password=pw")).toBe("postgres://u@h/db?password=***");
    expect(maskValue("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")).toBe("http://127.0.0.1:4566");
    expect(relevantEnv({ HOME: "/root", REDIS_URL: "redis://:pw@h", EVENT_PUBLISHER: "redis" })).toEqual([
      ["EVENT_PUBLISHER", "redis"],
      ["REDIS_URL", "redis://:***@h"],
    ]);
  });

  it("masks nested option secrets and leaves out functions and clients", () => {
    class Client {}
    const masked = maskOptions({
      sasl: { mechanism: "plain", username: "u", password: "p" },
      url: "redis://:s@h",
      client: new Client(),
      fn: () => 1,
      partitionKey: "k",
    });
    expect(masked).toEqual({
      sasl: { mechanism: "plain", username: "u", password: "***" },
      url: "redis://:***@h",
      client: "<Client>",
      partitionKey: "k",
    });
    expect(JSON.stringify(masked)).not.toMatch(/"p"|:s@/);
  });
});

describe("the readable line", () => {
  it("time, type, tenant, customer, what happened, id — no escapes without a terminal", () => {
    const event = createEvent(
      "interaction.recorded.v1",
      sampleInteraction({ tenantId: "acme", customerId: "c-1", interactionType: "click", offerId: "o-1" }),
      { time: "2026-12-01T09:10:11.123Z" },
    );
    expect(eventLine(event, painter({ isTTY: false }, {}))).toBe(
      `09:10:11.123  interaction.recorded.v1  tenant=acme  customer=c-1  click offer=o-1 channel=email  ${event.id}`,
    );
    const colourless = painter({ isTTY: true }, { NO_COLOR: "1" });
    expect(colourless.enabled).toBe(false);
    expect(painter({ isTTY: true }, {}).enabled).toBe(true);
  });

  it("--from accepts latest, earliest and RFC 3339 only", () => {
    expect(parseFrom("--from", "earliest")).toBe("earliest");
    expect(parseFrom("--from", "2026-12-01T09:00:00+01:00")).toEqual(new Date("2026-12-01T08:00:00Z"));
    expect(() => parseFrom("--from", "1733000000")).toThrow(/RFC 3339/);
  });
});
