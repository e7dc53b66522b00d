// The shared conformance suite against moto server: publish with PutEvents, read back through the
// path real deployments use — a rule per topic (detail-type = topic) targets an SQS queue, and the
// SQS subscriber parses the EventBridge event back into the typed envelope. Every subscriber gets
// its own queue: SQS consumers of one queue compete for messages.

import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { describeBackendConformance } from "@kaireon/events-testkit";
import { createEventBridgePublisher, createEventBridgeSubscriber } from "../../src/index.js";
import { clients, freshBus, freshQueue, motoEndpoint, region, slowEmulator } from "./moto.js";

const endpoint = await motoEndpoint();
const bus = await freshBus(endpoint);
let lastQueueUrl: string | undefined;

describeBackendConformance({
  name: "eventbridge (PutEvents → rule → SQS, moto server)",
  createPublisher: () => createEventBridgePublisher({ endpoint, region: region(), bus: bus.name, ...slowEmulator }),
  createQueueBoundPublisher: (maxQueued) =>
    createEventBridgePublisher({ endpoint, region: region(), bus: bus.name, ...slowEmulator, maxQueued, maxInFlight: 1 }),
  createSubscriber: async () => {
    const { queueUrl } = await freshQueue(endpoint, undefined, bus.name);
    lastQueueUrl = queueUrl;
    return createEventBridgeSubscriber({
      queueUrl,
      region: region(),
      sqsEndpoint: endpoint,
      requestTimeoutMs: slowEmulator.requestTimeoutMs,
      waitTimeSeconds: 2,
    });
  },
  // EventBridge gives no order and keeps no history (archives aside); nobody counts receivers.
  capabilities: { perKeyOrder: false, replay: false, replayFromTime: false, receivers: false },
  createUnreachablePublisher: () =>
    createEventBridgePublisher({ endpoint: "http://127.0.0.1:9", region: region(), maxAttempts: 2, publishTimeoutMs: 5_000 }),
  // Raw text straight into the queue a rule feeds: what a misconfigured target or another sender would put there.
  receiveTimeoutMs: 60_000,
  injectRaw: async (_topic, raw) => {
    const { sqs, eventBridge } = clients(endpoint);
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: lastQueueUrl, MessageBody: raw }));
    } finally {
      sqs.destroy();
      eventBridge.destroy();
    }
  },
});
