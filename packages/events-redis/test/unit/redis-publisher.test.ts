// The publisher's bounds, checked against an address where nothing listens (no Redis needed): every
// publish settles within REDIS_PUBLISH_TIMEOUT_MS with a coded error, the queue is bounded by
// REDIS_MAX_PENDING (QUEUE_FULL beyond it), and no message or log line carries the password.

import { createServer } from "node:net";
import { createEvent, EventsError, type Logger } from "@kaireon/events-core";
import { sampleDecision } from "@kaireon/events-testkit";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createRedisPublisher, type RedisPublisher, redisOptions } from "../../src/index.js";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function capturingLogger(lines: string[]): Logger {
  const push = (message: string, fields?: Record<string, unknown>) => lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  return { debug: push, info: push, warn: push, error: push };
}

const PASSWORD = "pa55-w0rd-n0t-for-logs";
const publishers: RedisPublisher[] = [];
afterEach(async () => {
  await Promise.all(publishers.splice(0).map((p) => p.close()));
});

describe("redis publisher with Redis unreachable", () => {
  it("settles every publish within the timeout with a coded error, and says nothing secret", async () => {
    const lines: string[] = [];
    const port = await closedPort();
    const p = createRedisPublisher(redisOptions(`redis://default:${PASSWORD}@127.0.0.1:${port}`, { publishTimeoutMs: 300 }), {
      logger: capturingLogger(lines),
    });
    publishers.push(p);
    const errors = await Promise.all(
      Array.from({ length: 50 }, () =>
        p.publish("decision.made.v1", sampleDecision()).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    for (const error of errors) {
      expect(EventsError.isInstance(error)).toBe(true);
      expect(["CONNECTION_FAILED", "PUBLISH_TIMEOUT"]).toContain((error as EventsError).code);
      expect((error as Error).message).not.toContain(PASSWORD);
    }
    const batch = await p.publishBatch([createEvent("decision.made.v1", sampleDecision())]);
    expect(batch[0]?.status).toBe("rejected");
    const ready = await p.ready();
    expect(ready.ready).toBe(false);
    expect(ready.detail).toContain("***");
    expect(ready.detail).not.toContain(PASSWORD);
    expect(p.metrics()).toMatchObject({ failed: 51, pending: 0 });
    expect(lines.join("\n")).not.toContain(PASSWORD);
  });

  it("bounds what waits: beyond REDIS_MAX_PENDING a publish rejects at once with QUEUE_FULL", async () => {
    const p = createRedisPublisher(
      redisOptions(`redis://127.0.0.1:${await closedPort()}`, { publishTimeoutMs: 500, maxPending: 20, pipelineSize: 5 }),
      {
        logger: capturingLogger([]),
      },
    );
    publishers.push(p);
    const messages = new Set<string>();
    const settled = Array.from({ length: 200 }, () =>
      p.publish("decision.made.v1", sampleDecision()).then(
        () => "ok",
        (e: EventsError) => {
          messages.add(e.message);
          return e.code;
        },
      ),
    );
    // Queued entries plus the pipelines in flight, never the 200 fired.
    expect(p.metrics().pending).toBeLessThanOrEqual(20 + 2 * 5);
    const codes = await Promise.all(settled);
    expect(codes.filter((c) => c === "QUEUE_FULL").length).toBeGreaterThanOrEqual(200 - 30);
    expect(codes).not.toContain("ok");
    expect([...messages].some((m) => m.includes("REDIS_MAX_PENDING"))).toBe(true);
    // The last pipeline stops waiting for the connection at its newest entry's deadline.
    await vi.waitFor(() => expect(p.metrics().pending).toBe(0), { timeout: 2_000 });
    // A batch larger than the bound is taken while there is room (a healthy Redis works through it);
    // with Redis down, what waits stays within the bound and each event settles, unsent, in time.
    const batch = p.publishBatch(Array.from({ length: 21 }, () => createEvent("decision.made.v1", sampleDecision())));
    expect(p.metrics().pending).toBeLessThanOrEqual(21);
    const tooMany = await batch;
    expect(tooMany.map((r) => r.status === "rejected" && (r.reason as EventsError).code)).toEqual(
      Array(21).fill(expect.stringMatching(/^(CONNECTION_FAILED|PUBLISH_TIMEOUT)$/)),
    );
    // While a batch fills the queue (20) and waits for room (10 more beyond the 2 pipelines of 5 in
    // flight), another one fails at once with QUEUE_FULL.
    const waiting = p.publishBatch(Array.from({ length: 40 }, () => createEvent("decision.made.v1", sampleDecision())));
    const full = await p.publishBatch([createEvent("decision.made.v1", sampleDecision())]);
    expect(full[0]).toMatchObject({ status: "rejected", reason: { code: "QUEUE_FULL" } });
    await waiting;
  });

  it("rediss:// turns TLS on", async () => {
    const p = createRedisPublisher(redisOptions(`rediss://127.0.0.1:${await closedPort()}`, { publishTimeoutMs: 100 }), {
      logger: capturingLogger([]),
    });
    publishers.push(p);
    expect(p.client.options.tls).toBeTruthy();
  });
});
