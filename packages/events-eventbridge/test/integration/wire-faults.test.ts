// Faults on the wire (events-testkit's describeWireFaults): a Toxiproxy proxy between the SDK clients
// and moto — PutEvents of the publisher and the SQS requests of the subscriber both go through it —
// every scenario. EventBridge → SQS is durable: every event reported published must be in a "ledger"
// queue, which a second rule on the bus feeds and which is read with a direct client (not through the
// proxy, and without stealing the subscriber's messages). Each scenario has its own publisher Source
// and its own two queues, whose rules match on that Source: a scenario's subscriber never drains what
// an earlier one left, and no queue grows past one scenario (moto's SendMessage slows down as a queue
// grows, and it runs once per matching rule inside PutEvents). The secret access key of this file is
// its own, so the secret check has something distinctive to look for (moto checks no signatures).
// Two limits of this setup, not of the package (no scenario is excluded for them): moto answers every
// request with `Connection: close` and Toxiproxy passes that close on while it swallows the answer, so
// `lostAnswers` ends each attempt at once instead of after the request timeout, as it would against
// AWS; and healing `blackHole` closes the connections Toxiproxy held (its timeout toxic's cleanup),
// where a real half-open socket stays silent — FAULT_MS is longer than one request timeout so the
// timeout path runs anyway, and kinesis-fault.test.ts / eventbridge-sqs-fault.test.ts keep a real one.
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { silentLogger } from "@kaireon/events-core";
import { describeWireFaults, Toxiproxy } from "@kaireon/events-testkit";
import { afterAll, describe, expect, it } from "vitest";
import { createEventBridgePublisher, createEventBridgeSubscriber, ensureRuleToQueue, safeParseEventBridgeEvent } from "../../src/index.js";
import { clients, freshBus, motoEndpoint, region, uniqueName } from "./moto.js";

const SECRET = "wire-fault-EventBridge-S3cretAccessKey";
process.env.AWS_SECRET_ACCESS_KEY = SECRET;

/**
 * Above the `slow` scenario's latency (2 s + 0.5 s, jitter on top) so a slow link is slow, not
 * failed; short enough that a black hole ends quickly. One attempt each (the SDK's retries are off).
 */
const REQUEST_TIMEOUT_MS = 3_500;
const PUBLISH_TIMEOUT_MS = 8_000;
/** Longer than one request timeout, so in a black hole at least one request times out. */
const FAULT_MS = 4_000;
/**
 * Small on purpose. The runner offers 200 publishes a second; moto's PutEvents with two SQS targets
 * manages some 20–50 events a second on a loaded 2-core machine. With a deep queue nearly every
 * publish would wait out PUBLISH_TIMEOUT behind the backlog — a load test, not a fault test; a short
 * queue sheds the excess at once with QUEUE_FULL and keeps what waits for the fault itself.
 */
const MAX_QUEUED = 40;
const MAX_IN_FLIGHT = 4;
const ENTRIES_PER_CALL = 10;

const endpoint = await motoEndpoint();
const bus = await freshBus(endpoint);
const { eventBridge, sqs } = clients(endpoint);
afterAll(() => {
  eventBridge.destroy();
  sqs.destroy();
});

/**
 * Reads a ledger queue straight from moto for the whole scenario, deleting what it read: moto's
 * ReceiveMessage and SendMessage slow down as a queue fills, and reading only at the end took most of
 * a scenario's time. `idsOf` drains what is left and stops.
 */
class LedgerReader {
  private readonly ids = new Map<string, string[]>();
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(private readonly queueUrl: string) {
    this.loop = this.run();
  }

  async idsOf(tenantId: string): Promise<string[]> {
    this.stopped = true;
    await this.loop;
    for (let empty = 0; empty < 2; ) if ((await this.readOnce(0)) === 0) empty++;
    return this.ids.get(tenantId) ?? [];
  }

  private async run(): Promise<void> {
    while (!this.stopped) await this.readOnce(1);
  }

  private async readOnce(waitSeconds: number): Promise<number> {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600, WaitTimeSeconds: waitSeconds }),
    );
    if (Messages.length === 0) return 0;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    for (const message of Messages) {
      const parsed = safeParseEventBridgeEvent(message.Body ?? "");
      if (!parsed.ok) continue;
      const ids = this.ids.get(parsed.event.tenantid) ?? [];
      ids.push(parsed.event.id);
      this.ids.set(parsed.event.tenantid, ids);
    }
    return Messages.length;
  }
}

interface Scenario {
  source: string;
  ledger: LedgerReader;
  subscriberQueueUrl: string;
}
let current: Scenario | undefined;
let scenarios = 0;

/** A Source for the scenario's publisher, and a ledger queue and a subscriber queue fed by rules on it. */
async function nextScenario(): Promise<Scenario> {
  const source = `kaireon-wire-${++scenarios}`;
  const queue = (name: string) =>
    ensureRuleToQueue({ eventBridge, sqs, name: uniqueName(name), bus: bus.name, topics: ["decision.made.v1"], source });
  const [ledger, subscriber] = await Promise.all([queue("wire-ledger"), queue("wire-sub")]);
  current = { source, ledger: new LedgerReader(ledger.queueUrl), subscriberQueueUrl: subscriber.queueUrl };
  return current;
}

const common = { region: region(), requestTimeoutMs: REQUEST_TIMEOUT_MS };

describeWireFaults({
  name: "eventbridge",
  upstream: new URL(endpoint).host,
  // describeWireFaults creates the publisher, then the subscriber, for each scenario.
  createPublisher: async ({ address, logger }) =>
    createEventBridgePublisher({
      ...common,
      endpoint: `http://${address}`,
      bus: bus.name,
      source: (await nextScenario()).source,
      publishTimeoutMs: PUBLISH_TIMEOUT_MS,
      maxQueued: MAX_QUEUED,
      maxInFlight: MAX_IN_FLIGHT,
      logger,
    }),
  createSubscriber: ({ address, logger }) =>
    createEventBridgeSubscriber({
      ...common,
      queueUrl: current?.subscriberQueueUrl,
      sqsEndpoint: `http://${address}`,
      waitTimeSeconds: 1,
      logger,
    }),
  readBack: async (tenantId) => {
    const ids = await (current as Scenario).ledger.idsOf(tenantId);
    // A figure, not an assertion: what a failed publish (sent: "unknown") may still have put on the bus.
    console.info(`[eventbridge wire] ${tenantId}: ${ids.length} events in the ledger queue, ${new Set(ids).size} distinct`);
    return ids;
  },
  // EVENTBRIDGE_MAX_QUEUED waiting plus EVENTBRIDGE_MAX_IN_FLIGHT calls of 10 entries.
  pendingBound: MAX_QUEUED + MAX_IN_FLIGHT * ENTRIES_PER_CALL,
  publishTimeoutMs: PUBLISH_TIMEOUT_MS,
  faultMs: FAULT_MS,
  secrets: [SECRET],
});

describe("ready() on a slow link", () => {
  // ready() is documented to wait one EVENTBRIDGE_REQUEST_TIMEOUT_MS; it used to abort after a fixed
  // 5 s, so a link slower than that read as down while publishing through it worked.
  it("waits EVENTBRIDGE_REQUEST_TIMEOUT_MS for DescribeEventBus, not a fixed 5 s", async () => {
    const toxiproxy = await Toxiproxy.fromEnv();
    const proxy = await toxiproxy.createProxy(uniqueName("eventbridge-ready"), new URL(endpoint).host);
    const p = createEventBridgePublisher({
      region: region(),
      endpoint: `http://${proxy.listen}`,
      bus: bus.name,
      requestTimeoutMs: 9_000,
      logger: silentLogger,
    });
    try {
      await proxy.addToxic("slow", { type: "latency", stream: "downstream", attributes: { latency: 6_000 } });
      expect(await p.ready()).toMatchObject({ ready: true, backend: "eventbridge" });
    } finally {
      await p.close();
      await proxy.delete();
    }
  }, 30_000);
});
