// End to end through moto server: PutEvents from this package → rules per detail-type → SQS →
// parse back. Also counts PutEvents requests with an SDK middleware on the real emulator.
// What moto does not do, and is therefore not asserted here: it drops TraceHeader (we assert it is
// on the wire instead), leaves `account` out of the delivered event, and checks no queue policy.

import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
} from "@aws-sdk/client-sqs";
import { createEvent, type DomainEvent, loadPublisher, loadSubscriber, silentLogger } from "@kaireon/events-core";
import { createEventSpy, sampleDecision, sampleInteraction, uniqueTenant } from "@kaireon/events-testkit";
import { afterAll, describe, expect, it } from "vitest";
import {
  createEventBridgePublisher,
  createEventBridgeSubscriber,
  type EventBridgePublisher,
  parseEventBridgeEvent,
} from "../../src/index.js";
import { clients, freshBus, freshQueue, motoEndpoint, region, slowEmulator } from "./moto.js";

const endpoint = await motoEndpoint();
const bus = await freshBus(endpoint);
const { sqs, eventBridge } = clients(endpoint);
const closers: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  sqs.destroy();
  eventBridge.destroy();
});

function publisher(overrides: Parameters<typeof createEventBridgePublisher>[0] = {}): EventBridgePublisher {
  const p = createEventBridgePublisher({ endpoint, region: region(), bus: bus.name, logger: silentLogger, ...slowEmulator, ...overrides });
  closers.push(() => p.close());
  return p;
}

/** Reads (and deletes nothing) until `count` messages arrived or the time is up. */
async function receive(queueUrl: string, count: number, timeoutMs = 90_000): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 600 }),
    );
    got.push(...(r.Messages ?? []));
  }
  return got;
}

async function queueDepth(queueUrl: string): Promise<number> {
  const r = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return Number(r.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Counts PutEvents requests (and their entries) at the HTTP step: what AWS would bill and throttle. */
function countPutEvents(p: EventBridgePublisher) {
  const counter = { calls: 0, entries: 0, bodies: [] as string[] };
  p.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "PutEventsCommand") {
        counter.calls++;
        const raw = (args.request as { body?: unknown }).body;
        const body = raw instanceof Uint8Array ? new TextDecoder().decode(raw) : String(raw ?? "");
        counter.entries += (JSON.parse(body) as { Entries: unknown[] }).Entries.length;
        counter.bodies.push(body);
      }
      return next(args);
    },
    { step: "finalizeRequest", name: "countPutEvents" },
  );
  return counter;
}

describe("eventbridge end to end (moto server)", () => {
  it("a rule on detail-type = interaction.recorded.v1 (and one for decision.made.v1) delivers to SQS; events parse back equal", async () => {
    const interactions = await freshQueue(endpoint, ["interaction.recorded.v1"], bus.name);
    const decisions = await freshQueue(endpoint, ["decision.made.v1"], bus.name);
    const p = publisher();
    const counter = countPutEvents(p);
    const tenantId = uniqueTenant();
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const sentInteractions = [1, 2, 3].map((i) =>
      createEvent(
        "interaction.recorded.v1",
        sampleInteraction({ tenantId, offerId: `offer-${i}`, campaignId: i === 2 ? "camp-é" : null }),
        {
          traceparent,
        },
      ),
    );
    const sentDecisions = [1, 2].map((i) => createEvent("decision.made.v1", sampleDecision({ tenantId, recommendationId: `rec-${i}` })));
    const results = await Promise.all([...sentInteractions, ...sentDecisions].map((e) => p.publishEvent(e)));
    for (const r of results) expect(r.position).toMatch(/^[0-9a-f-]{36}$/);

    const gotInteractions = await receive(interactions.queueUrl, 3);
    const gotDecisions = await receive(decisions.queueUrl, 2);
    const parsedInteractions = gotInteractions.map((m) => parseEventBridgeEvent(m.Body));
    const parsedDecisions = gotDecisions.map((m) => parseEventBridgeEvent(m.Body));
    const byId = (a: DomainEvent, b: DomainEvent) => a.id.localeCompare(b.id);
    expect(parsedInteractions.map((e) => ({ ...e })).sort(byId)).toEqual(sentInteractions.map((e) => ({ ...e })).sort(byId));
    expect(parsedDecisions.map((e) => ({ ...e })).sort(byId)).toEqual(sentDecisions.map((e) => ({ ...e })).sort(byId));

    // The outer EventBridge event: our mapping, and EventBridge's id = the publish result's position.
    const body = JSON.parse(gotInteractions[0]?.Body ?? "{}");
    expect(body).toMatchObject({ "detail-type": "interaction.recorded.v1", source: "kaireon-platform" });
    expect(results.map((r) => r.position)).toContain(body.id);
    // moto drops TraceHeader, so check the request itself: W3C traceparent as an X-Ray header.
    const wire = counter.bodies.join("\n");
    expect(wire).toContain('"TraceHeader":"Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=b7ad6b7169203331;Sampled=1"');
    expect(counter.calls).toBeLessThanOrEqual(2);

    // Nothing else arrived: each rule matched only its detail-type.
    expect(await receive(interactions.queueUrl, 1, 2_000)).toHaveLength(0);
    expect(await receive(decisions.queueUrl, 1, 2_000)).toHaveLength(0);
  });

  it("1,000 concurrent publishes cost at most 100 PutEvents calls, each event accepted once", async () => {
    // A bus without rules: this counts requests; delivery through rules is the test above (moto
    // evaluates rules slowly enough that 1,000 deliveries would only measure moto).
    const countingBus = await freshBus(endpoint);
    const p = publisher({ bus: countingBus.name });
    const counter = countPutEvents(p);
    const tenantId = uniqueTenant();
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => p.publish("decision.made.v1", sampleDecision({ tenantId, recommendationId: `r${i}` }))),
    );
    expect(results.every((r) => r.status === "published")).toBe(true);
    expect(counter.entries).toBe(1000);
    expect(counter.calls).toBeLessThanOrEqual(100);
    // Every event got its own EventBridge id: none was dropped or sent twice.
    expect(new Set(results.map((r) => r.position)).size).toBe(1000);
    const sentIds = counter.bodies.flatMap((b) =>
      (JSON.parse(b) as { Entries: { Detail: string }[] }).Entries.map((e) => (JSON.parse(e.Detail) as { id: string }).id),
    );
    expect(sentIds.sort()).toEqual(results.map((r) => r.id).sort());
  }, 240_000);

  it("EVENTBRIDGE_BUS may be an ARN; loadPublisher/loadSubscriber wire the package from env", async () => {
    const queue = await freshQueue(endpoint, ["interaction.recorded.v1", "decision.made.v1"], bus.name);
    const env = {
      EVENT_PUBLISHER: "eventbridge",
      EVENT_SOURCE: "kaireon-it",
      EVENTBRIDGE_BUS: bus.arn,
      EVENTBRIDGE_QUEUE_URL: queue.queueUrl,
      EVENTBRIDGE_SQS_WAIT_SECONDS: "1",
      EVENTBRIDGE_REQUEST_TIMEOUT_MS: "60000",
      EVENTBRIDGE_PUBLISH_TIMEOUT_MS: "120000",
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region(),
    };
    const p = await loadPublisher(env, { logger: silentLogger });
    closers.push(() => p.close());
    const s = await loadSubscriber(env, { logger: silentLogger });
    closers.push(() => s.close());
    expect(p.backend).toBe("eventbridge");
    const spy = createEventSpy();
    await s.subscribe(["interaction.recorded.v1"], spy.handler, { onError: spy.onError });
    const tenantId = uniqueTenant();
    const sent = await p.publish("interaction.recorded.v1", sampleInteraction({ tenantId }));
    const got = await spy.waitFor("interaction.recorded.v1", (e) => e.id === sent.id, 60_000);
    expect(got.source).toBe("kaireon-it");
    expect(await p.ready()).toMatchObject({ ready: true });
  });

  it("a bus that does not exist: publish fails with a coded error naming it, ready() says why", async () => {
    const p = publisher({ bus: "no-such-bus-kaireon" });
    const error = await p.publish("decision.made.v1", sampleDecision()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PUBLISH_FAILED" });
    expect((error as Error).message).toContain("no-such-bus-kaireon");
    const ready = await p.ready();
    expect(ready.ready).toBe(false);
    expect(ready.detail).toContain("no-such-bus-kaireon");
  });

  it("malformed detail via EventBridge: onError with the raw body; left in the queue by default, deleted with malformed=delete", async () => {
    for (const malformed of ["leave", "delete"] as const) {
      const queue = await freshQueue(endpoint, ["decision.made.v1"], bus.name);
      const raw = await eventBridge.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: bus.name,
              Source: "someone-else",
              DetailType: "decision.made.v1",
              Detail: JSON.stringify({ type: "decision.made.v1", hello: malformed }),
            },
          ],
        }),
      );
      expect(raw.FailedEntryCount).toBe(0);
      const subscriber = createEventBridgeSubscriber({
        queueUrl: queue.queueUrl,
        sqsEndpoint: endpoint,
        requestTimeoutMs: slowEmulator.requestTimeoutMs,
        region: region(),
        waitTimeSeconds: 1,
        malformed,
      });
      closers.push(() => subscriber.close());
      const spy = createEventSpy();
      const subscription = await subscriber.subscribe(["decision.made.v1"], spy.handler, { onError: spy.onError });
      const p = publisher();
      const good = await p.publish("decision.made.v1", sampleDecision({ tenantId: uniqueTenant() }));
      await spy.waitFor("decision.made.v1", (e) => e.id === good.id, 60_000);
      const [failure] = await spy.waitForErrors(1, 60_000);
      expect(failure?.error.code).toBe("VALIDATION_FAILED");
      expect(failure?.raw).toContain(`"hello": "${malformed}"`);
      expect(failure?.error.message).toContain("detail");
      await subscription.close();
      // The good event was deleted after its handler; the malformed one stays only with "leave".
      expect(await queueDepth(queue.queueUrl)).toBe(malformed === "leave" ? 1 : 0);
    }
  });

  it("a malformed message left in the queue goes to the dead-letter queue after maxReceiveCount (ensureRuleToQueue)", async () => {
    const queue = await freshQueue(endpoint, ["decision.made.v1"], bus.name, { deadLetterAfterReceives: 1, visibilityTimeoutSeconds: 1 });
    expect(queue.deadLetterQueueUrl).toBeDefined();
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: "{broken json" }));
    const subscriber = createEventBridgeSubscriber({
      queueUrl: queue.queueUrl,
      sqsEndpoint: endpoint,
      requestTimeoutMs: slowEmulator.requestTimeoutMs,
      region: region(),
      waitTimeSeconds: 1,
    });
    closers.push(() => subscriber.close());
    const spy = createEventSpy();
    const subscription = await subscriber.subscribe(["decision.made.v1"], spy.handler, { onError: spy.onError });
    const [failure] = await spy.waitForErrors(1, 60_000);
    expect(failure).toMatchObject({ raw: "{broken json", error: { code: "MALFORMED_MESSAGE" } });
    // Left, not deleted: once visible again, the redrive policy moves it on the next receive.
    const deadline = Date.now() + 60_000;
    while ((await queueDepth(queue.deadLetterQueueUrl as string)) === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 500));
    await subscription.close();
    expect(await queueDepth(queue.deadLetterQueueUrl as string)).toBe(1);
    expect(spy.errors).toHaveLength(1);
  });

  it("a handler that fails every attempt: HANDLER_FAILED to onError, then the message is deleted (moved on, as on every backend), not redelivered", async () => {
    const queue = await freshQueue(endpoint, ["decision.made.v1"], bus.name);
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queue.queueUrl, Attributes: { VisibilityTimeout: "1" } }));
    const subscriber = createEventBridgeSubscriber({
      queueUrl: queue.queueUrl,
      sqsEndpoint: endpoint,
      requestTimeoutMs: slowEmulator.requestTimeoutMs,
      region: region(),
      waitTimeSeconds: 1,
    });
    closers.push(() => subscriber.close());
    const seen: string[] = [];
    const errors: { code: string; attempts?: unknown }[] = [];
    const subscription = await subscriber.subscribe(
      ["decision.made.v1"],
      (event) => {
        seen.push(event.id);
        throw new Error("downstream is down");
      },
      { handlerAttempts: 2, onError: (f) => errors.push({ code: f.error.code, attempts: f.error.details?.attempts }) },
    );
    const sent = await publisher().publish("decision.made.v1", sampleDecision({ tenantId: uniqueTenant() }));
    const deadline = Date.now() + 20_000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const gone = Date.now() + 20_000;
    while ((await queueDepth(queue.queueUrl)) > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 200));
    // Past the visibility timeout: a message that was not deleted would be back by now.
    await new Promise((r) => setTimeout(r, 2_500));
    await subscription.close();
    expect(errors).toEqual([{ code: "HANDLER_FAILED", attempts: 2 }]);
    expect(seen).toEqual([sent.id, sent.id]);
    expect(await queueDepth(queue.queueUrl)).toBe(0);
  }, 90_000);
});
