// A Kinesis endpoint that accepts connections and never answers (a real half-open peer: the proxy in
// black-hole.ts, in front of moto). Every request must end within KINESIS_REQUEST_TIMEOUT_MS per
// attempt, so a publish settles with a coded error and frees its Batcher slot and (strict) its key,
// ready() says not-ready, and the reader reports the outage — then all of it works again once the
// endpoint answers. Bounds are checked with a generous race, and the figures are logged, not asserted.

import { createEvent, type DomainEvent, silentLogger } from "@kaireon/events-core";
import { createEventSpy, sampleDecision, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKinesisPublisher, createKinesisSubscriber, type KinesisPublisher, type KinesisSubscriber } from "../../src/index.js";
import { type SwitchableProxy, switchableProxy } from "./black-hole.js";
import { countingClient, createStream, motoEndpoint, testOptions } from "./moto.js";

let endpoint: string;
let stream: string;
let proxy: SwitchableProxy;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  endpoint = await motoEndpoint();
  const { client } = countingClient(endpoint);
  stream = await createStream(client, "fault", 1);
  client.destroy();
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
});

async function freshProxy(): Promise<SwitchableProxy> {
  proxy = await switchableProxy(endpoint);
  closers.push(() => proxy.close());
  return proxy;
}

/** Short request timeouts so the test is quick; the publish bound stays well above them. */
const fast = { requestTimeoutMs: 300 };

/** Settles `work` or says it did not within `boundMs` (a liveness check, not a duration assertion). */
async function within<T>(boundMs: number, work: Promise<T>): Promise<{ settled: true; value: T; ms: number } | { settled: false }> {
  const started = Date.now();
  const timer = new Promise<{ settled: false }>((resolve) => setTimeout(() => resolve({ settled: false }), boundMs).unref());
  return Promise.race([work.then((value) => ({ settled: true as const, value, ms: Date.now() - started })), timer]);
}

function decision(tenantId: string, customerId: string): DomainEvent {
  return createEvent("decision.made.v1", sampleDecision({ tenantId, customerId })) as DomainEvent;
}

describe("kinesis against an endpoint that never answers", () => {
  it("a hung PutRecords settles with a coded error and frees its slot and its key: the same key publishes once the endpoint answers", async () => {
    const hole = await freshProxy();
    const p: KinesisPublisher = createKinesisPublisher({
      ...testOptions(hole.url, stream, { ordering: "strict", maxInFlight: 1, publishTimeoutMs: 6_000, ...fast }),
      logger: silentLogger,
    });
    closers.push(() => p.close());
    const tenantId = uniqueTenant("hung");
    hole.blackHole();
    const first = await p.publishEvent(decision(tenantId, "c1")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(first).toMatchObject({ code: expect.stringMatching(/^(PUBLISH_TIMEOUT|CONNECTION_FAILED)$/) });
    expect(hole.swallowed).toBeGreaterThan(0);
    console.info(`[kinesis-fault] the hung publish settled with ${(first as { code?: string }).code}`);

    hole.forward();
    // Same key (strict: one record per key in flight) and the only in-flight slot: both must be free.
    const second = await p.publishEvent(decision(tenantId, "c1")).then(
      (r) => r,
      (e: unknown) => e,
    );
    expect(second, "the hung request still holds the key or the slot").toMatchObject({ status: "published" });
    expect(p.metrics().pending).toBe(0);
  }, 60_000);

  it("ready() answers not-ready within its bound while the endpoint is silent, ready again after", async () => {
    const hole = await freshProxy();
    const p = createKinesisPublisher({ ...testOptions(hole.url, stream, fast), logger: silentLogger });
    closers.push(() => p.close());
    hole.blackHole();
    const report = await within(15_000, p.ready());
    expect(report, "ready() did not answer").toMatchObject({ settled: true, value: { ready: false, backend: "kinesis" } });
    if (report.settled)
      console.info(`[kinesis-fault] ready() answered not-ready after ${report.ms} ms (request timeout ${fast.requestTimeoutMs} ms)`);
    hole.forward();
    expect(await p.ready()).toMatchObject({ ready: true });
  }, 60_000);

  it("the reader's poll gives up, reports through onError, and reads on once the endpoint answers", async () => {
    const hole = await freshProxy();
    const s: KinesisSubscriber = createKinesisSubscriber({ ...testOptions(hole.url, stream, fast), logger: silentLogger });
    closers.push(() => s.close());
    const spy = createEventSpy();
    const tenantId = uniqueTenant("reader");
    await s.subscribe(["decision.made.v1"], spy.handler, { onError: spy.onError });
    hole.blackHole();
    const [failure] = await spy.waitForErrors(1, 20_000);
    expect(failure?.error).toMatchObject({ code: "CONNECTION_FAILED", backend: "kinesis" });
    expect(hole.swallowed).toBeGreaterThan(0);

    hole.forward();
    const direct = createKinesisPublisher({ ...testOptions(endpoint, stream), logger: silentLogger });
    closers.push(() => direct.close());
    const sent = await direct.publishEvent(decision(tenantId, "c2"));
    const [got] = await spy.waitForCount(1, (e) => e.tenantid === tenantId, 30_000);
    expect(got?.id).toBe(sent.id);
  }, 90_000);
});
