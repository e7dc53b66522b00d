// kafkajs 2.2.4 re-arms a 1 ms timer per connection while its request queue is empty (a negative
// delay: Node 24's TimeoutNegativeWarning), for as long as the connection is open. Using the kafkajs
// client stops that polling, and only that: a queued request or a throttle still schedules its check.
// The queue is kafkajs' own class, driven directly: no broker needed to see which timers it sets.

import { silentLogger } from "@kaireon/events-testkit";
import { afterEach, expect, it } from "vitest";
import { createKafkaPublisher, resolveKafkaOptions } from "../../src/index.js";
import { kafkajsRequestQueue } from "../../src/kafka-kafkajs-idle-poll.js";

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
  destroy(): void;
}

const queues: Queue[] = [];
afterEach(() => {
  for (const q of queues.splice(0)) q.destroy();
});

function queue(): Queue {
  const RequestQueue = kafkajsRequestQueue() as unknown as new (options: object) => Queue;
  expect(RequestQueue, "kafkajs' RequestQueue is found").toBeDefined();
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  const q = new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: "t",
    broker: "b:1",
    logger,
  });
  queues.push(q);
  return q;
}

it("with the kafkajs client in use, an idle request queue schedules no check; a queued request or a throttle still does", async () => {
  const publisher = createKafkaPublisher(resolveKafkaOptions({ client: "kafkajs", brokers: ["127.0.0.1:1"] }), { logger: silentLogger });

  const idle = queue();
  idle.scheduleCheckPendingRequests(); // what kafkajs does after every answer
  expect(idle.throttleCheckTimeoutId).toBeNull();

  const waiting = queue();
  waiting.pending.push({});
  waiting.scheduleCheckPendingRequests();
  expect(waiting.throttleCheckTimeoutId).not.toBeNull();

  const throttled = queue();
  throttled.throttledUntil = Date.now() + 60_000;
  throttled.scheduleCheckPendingRequests();
  expect(throttled.throttleCheckTimeoutId).not.toBeNull();

  await publisher.close();
});
