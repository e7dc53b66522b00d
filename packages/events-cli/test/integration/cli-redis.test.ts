// kaireon-events against the shared Redis: publish (valid, invalid), tail on pub/sub and Streams
// (a malformed entry reported with its position), check (working, wrong password, unreachable), replay.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, serializeEvent } from "@kaireon/events-core";
import { requireService, sampleDecision, sampleInteraction, uniqueTenant } from "@kaireon/events-testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, CliProcess, cliEnv, ndjson, runCli, unique } from "../support/cli.js";

let redisUrl: string;
let redis: Redis;
const dir = mkdtempSync(join(tmpdir(), "kaireon-cli-redis-"));

beforeAll(async () => {
  redisUrl = await requireService({ variable: "REDIS_URL", name: "Redis" });
  redis = new Redis(redisUrl);
});
afterAll(async () => {
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const streamsEnv = (prefix: string) =>
  cliEnv({ EVENT_PUBLISHER: "redis", REDIS_URL: redisUrl, REDIS_MODE: "streams", REDIS_CHANNEL_PREFIX: prefix });
const pubsubEnv = (prefix: string) => cliEnv({ EVENT_PUBLISHER: "redis", REDIS_URL: redisUrl, REDIS_CHANNEL_PREFIX: prefix });
const lines = (...values: unknown[]) => `${values.map((v) => JSON.stringify(v)).join("\n")}\n`;

describe("publish on Redis Streams", () => {
  it("publishes every valid line and prints its id and stream entry id", async () => {
    const prefix = `${unique("cli")}:`;
    const tenantId = uniqueTenant();
    const r = await runCli(["publish", "interaction.recorded.v1"], {
      env: streamsEnv(prefix),
      input: lines(sampleInteraction({ tenantId }), sampleInteraction({ tenantId, interactionType: "click" })),
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = ndjson<{ id: string; position: string; status: string; line: string }>(r.stdout);
    expect(out.map((o) => o.line)).toEqual(["line 1", "line 2"]);
    for (const o of out) expect(o).toMatchObject({ status: "published", position: expect.stringMatching(/^\d+-\d+$/) });
    const entries = await redis.xrange(`${prefix}interaction.recorded.v1`, "-", "+");
    expect(entries.map(([, fields]) => JSON.parse(fields[1] as string).id)).toEqual(out.map((o) => o.id));
  });

  it("an invalid line: its line number and field path, exit 2, and nothing of the input is sent", async () => {
    const prefix = `${unique("cli")}:`;
    const bad = { ...sampleInteraction(), interactionType: "hover" };
    const r = await runCli(["publish", "interaction.recorded.v1"], {
      env: streamsEnv(prefix),
      input: `${lines(sampleInteraction(), bad, sampleInteraction())}{oops\n`,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("line 2: data.interactionType:");
    expect(r.stderr).toContain("line 4: not JSON");
    expect(r.stderr).toContain("nothing was published");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).toBe("");
    expect(await redis.exists(`${prefix}interaction.recorded.v1`)).toBe(0);
  });

  it("reads --file, and a whole CloudEvent keeps its id", async () => {
    const prefix = `${unique("cli")}:`;
    const first = await runCli(["publish", "decision.made.v1"], {
      env: streamsEnv(prefix),
      input: JSON.stringify(sampleDecision(), null, 2),
    });
    expect(first.code).toBe(0);
    const [entry] = await redis.xrange(`${prefix}decision.made.v1`, "-", "+");
    const file = join(dir, "event.json");
    writeFileSync(file, (entry as [string, string[]])[1][1] as string);
    const again = await runCli(["publish", "decision.made.v1", "--file", file], { env: streamsEnv(`${prefix}b:`) });
    expect(again.code).toBe(0);
    expect(ndjson<{ id: string }>(again.stdout)[0]?.id).toBe(ndjson<{ id: string }>(first.stdout)[0]?.id);
  });
});

describe("tail on Redis Streams", () => {
  it("--from earliest --count prints NDJSON CloudEvents; filters apply; a malformed entry goes to stderr with its position", async () => {
    const prefix = `${unique("cli")}:`;
    const tenantId = uniqueTenant();
    const key = `${prefix}interaction.recorded.v1`;
    await runCli(["publish", "interaction.recorded.v1"], {
      env: streamsEnv(prefix),
      input: lines(sampleInteraction({ tenantId, interactionType: "impression" })),
    });
    const badId = await redis.xadd(key, "*", "event", "{not an event");
    const published = await runCli(["publish", "interaction.recorded.v1"], {
      env: streamsEnv(prefix),
      input: lines(
        sampleInteraction({ tenantId, interactionType: "click", customerId: "c-9" }),
        sampleInteraction({ tenantId, interactionType: "click", customerId: "c-10" }),
      ),
    });
    expect(published.code).toBe(0);
    const r = await runCli(["tail", "interaction.recorded.v1", "--from", "earliest", "--type", "click", "--count", "2"], {
      env: streamsEnv(prefix),
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(0);
    const events = ndjson<{ specversion: string; type: string; data: { interactionType: string; customerId: string } }>(r.stdout);
    expect(events.map((e) => e.data.customerId)).toEqual(["c-9", "c-10"]);
    expect(events[0]).toMatchObject({ specversion: "1.0", type: "interaction.recorded.v1" });
    expect(r.stderr).toContain(`MALFORMED_MESSAGE (${key} at ${badId})`);
    expect(r.stderr).toContain('raw="{not an event"');
  });

  it("a tail's own group does not take the application group's entries, and is gone when the tail ends", async () => {
    const prefix = `${unique("cli")}:`;
    await runCli(["publish", "interaction.recorded.v1"], { env: streamsEnv(prefix), input: lines(sampleInteraction()) });
    const key = `${prefix}interaction.recorded.v1`;
    await redis.xgroup("CREATE", key, "app-group", "0");
    const r = await runCli(["tail", "--from", "earliest", "--count", "1", "--quiet"], { env: streamsEnv(prefix) });
    expect(r.code).toBe(0);
    expect(ndjson(r.stdout)).toHaveLength(1);
    const groups = ((await redis.xinfo("GROUPS", key)) as unknown[][]).map((g) => Object.fromEntries(chunk(g)));
    const app = groups.find((g) => g.name === "app-group");
    expect(app?.["entries-read"] ?? null).toBeNull(); // the application's group has read nothing
    // …and the tail removed its own group when it ended (Redis would keep it forever).
    expect(groups.map((g) => g.name)).toEqual(["app-group"]);
  });
});

describe("tail on Redis Streams: ending", () => {
  it("--from with an --until already past reads that range and stops once idle; later events are not printed", async () => {
    const prefix = `${unique("cli")}:`;
    const pub = await runCli(["publish", "interaction.recorded.v1"], {
      env: streamsEnv(prefix),
      input: lines(sampleInteraction({ timestamp: "2026-01-01T00:00:00Z" }), sampleInteraction()),
    });
    expect(pub.code).toBe(0);
    const until = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await runCli(["publish", "interaction.recorded.v1"], {
      env: streamsEnv(prefix),
      input: lines(sampleInteraction({ customerId: "after-until" })),
    });
    const r = await runCli(["tail", "--from", "earliest", "--until", until, "--quiet"], { env: streamsEnv(prefix), timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    const ids = ndjson<{ id: string }>(r.stdout).map((e) => e.id);
    expect(ids).toEqual(ndjson<{ id: string }>(pub.stdout).map((o) => o.id));
  });

  it("stops cleanly when the reader of its pipe goes away (… | head -n 1)", async () => {
    const prefix = `${unique("cli")}:`;
    await runCli(["publish", "interaction.recorded.v1"], {
      env: streamsEnv(prefix),
      input: lines(...Array.from({ length: 50 }, () => sampleInteraction())),
    });
    const child = spawn("sh", ["-c", `'${process.execPath}' '${BIN}' tail --from earliest --quiet | head -n 1`], {
      env: streamsEnv(prefix),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    // Like any Unix filter, the tail learns the pipe is gone on its next write: when all 50 lines fit
    // in the pipe before head exits, that write is the next event — so keep events coming until it ends.
    const more = setInterval(() => {
      void redis.xadd(
        `${prefix}interaction.recorded.v1`,
        "*",
        "event",
        serializeEvent(createEvent("interaction.recorded.v1", sampleInteraction())),
      );
    }, 300);
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`tail | head did not end: ${out} ${err}`));
      }, 30_000);
      child.on("close", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    }).finally(() => clearInterval(more));
    // sh waits for both ends of the pipe: closing at all is the tail having stopped.
    expect(code).toBe(0);
    expect(ndjson(out)).toHaveLength(1);
    expect(err).not.toContain("EPIPE");
    expect(err).not.toContain("unexpected error");
  });
});

function chunk(flat: unknown[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([String(flat[i]), flat[i + 1]]);
  return out;
}

describe("tail on Redis pub/sub", () => {
  it("prints what is published while it listens, and refuses --from earliest (pub/sub keeps nothing)", async () => {
    const prefix = `${unique("cli")}:`;
    const tenantId = uniqueTenant();
    const tail = new CliProcess(["tail", "--tenant", tenantId], pubsubEnv(prefix));
    try {
      await tail.listening();
      const pub = await runCli(["publish", "decision.made.v1"], {
        env: pubsubEnv(prefix),
        input: lines(sampleDecision({ tenantId: "someone-else" }), sampleDecision({ tenantId })),
      });
      expect(pub.code).toBe(0);
      expect(ndjson<{ receivers: number }>(pub.stdout).map((o) => o.receivers)).toEqual([1, 1]);
      await tail.waitFor("one event", () => tail.lines.length >= 1);
    } finally {
      expect(await tail.stop()).toBe(0);
    }
    expect(ndjson<{ tenantid: string }>(tail.stdout).map((e) => e.tenantid)).toEqual([tenantId]);

    const refused = await runCli(["tail", "--from", "earliest"], { env: pubsubEnv(prefix) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("CONFIG_INVALID: [redis] pub/sub keeps no events");
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

describe("check on Redis", () => {
  let server: ChildProcess | undefined;
  let port: number;
  const password = "cli-check-secret-7781";

  beforeAll(async () => {
    // A Redis of its own with a password: the shared one has none, and a wrong password needs one.
    const bin = process.env.REDIS_SERVER_BIN ?? "redis-server";
    port = await freePort();
    server = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--requirepass", password, "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    const probe = new Redis({ port, host: "127.0.0.1", password, lazyConnect: true, retryStrategy: () => 100, maxRetriesPerRequest: null });
    probe.on("error", () => {}); // refused until the server is up: the loop below retries
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await probe.ping();
    probe.disconnect();
  });
  afterAll(() => {
    if (server?.pid) process.kill(server.pid, "SIGTERM");
  });

  it("a working configuration: exit 0, the password masked everywhere", async () => {
    const r = await runCli(["check"], {
      env: cliEnv({ EVENT_PUBLISHER: "redis", REDIS_URL: `redis://:${password}@127.0.0.1:${port}`, REDIS_MODE: "streams" }),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`REDIS_URL=redis://:***@127.0.0.1:${port}`);
    expect(r.stdout).toContain("ok   connected to redis: streams on");
    expect(r.stdout).toContain("publishing would work");
    expect(r.stdout + r.stderr).not.toContain(password);
  });

  it("a wrong password: exit 1, the refusal and the fix, no secret", async () => {
    const r = await runCli(["check", "--timeout", "3000"], {
      env: cliEnv({ EVENT_PUBLISHER: "redis", REDIS_URL: `redis://:wrong-${password}@127.0.0.1:${port}` }),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL connect to redis: .*WRONGPASS/);
    expect(r.stdout).toContain("fix: the credentials were refused — check the password in REDIS_URL");
    expect(r.stdout).toContain("publishing would NOT work");
    expect(r.stdout + r.stderr).not.toContain(password);
  });

  it("an unreachable server: exit 1, says what to check", async () => {
    const r = await runCli(["check", "--timeout", "2000"], {
      env: cliEnv({ EVENT_PUBLISHER: "redis", REDIS_URL: `redis://127.0.0.1:${await freePort()}` }),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL connect to redis");
    expect(r.stdout).toContain("fix: the server could not be reached — check REDIS_URL");
  });

  it("REDIS_URL unset: the stream would be disabled, exit 1 — and publish refuses to pretend", async () => {
    const r = await runCli(["check"], { env: cliEnv({ EVENT_PUBLISHER: "redis" }) });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("FAIL configuration: the redis stream is disabled");
    const pub = await runCli(["publish", "decision.made.v1"], {
      env: cliEnv({ EVENT_PUBLISHER: "redis" }),
      input: JSON.stringify(sampleDecision()),
    });
    expect(pub.code).toBe(1);
    expect(pub.stderr).toContain("STREAM_DISABLED: redis stream is disabled");
    expect(pub.stdout).toBe("");
  });
});

describe("replay from Redis Streams", () => {
  it("re-publishes a time range to the target environment with the ids unchanged", async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const source = `${unique("cli-src")}:`;
    const target = `${unique("cli-dst")}:`;
    const pub = await runCli(["publish", "interaction.recorded.v1"], {
      env: streamsEnv(source),
      input: lines(sampleInteraction(), sampleInteraction(), sampleInteraction()),
    });
    expect(pub.code).toBe(0);
    const envFile = join(dir, "target.env");
    writeFileSync(envFile, `EVENT_PUBLISHER=redis\nREDIS_MODE=streams\nREDIS_CHANNEL_PREFIX=${target}\n`);
    const r = await runCli(["replay", "--from", from, "--target", envFile, "--idle", "2"], { env: streamsEnv(source), timeoutMs: 60_000 });
    expect(r.stderr).toContain("replay interaction.recorded.v1, decision.made.v1 from redis streams");
    expect(r.stdout).toContain("replayed 3 event(s) to redis");
    expect(r.code).toBe(0);
    const copied = await redis.xrange(`${target}interaction.recorded.v1`, "-", "+");
    expect(copied.map(([, f]) => JSON.parse(f[1] as string).id)).toEqual(ndjson<{ id: string }>(pub.stdout).map((o) => o.id));
    expect(await redis.xinfo("GROUPS", `${source}interaction.recorded.v1`)).toEqual([]); // its own group removed
  });

  it("refuses a source that keeps no history", async () => {
    const r = await runCli(["replay", "--from", "earliest", "--target", "/dev/null"], { env: pubsubEnv("x:") });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("NOT_REPLAYABLE: the source backend redis pubsub keeps no history");
  });
});
