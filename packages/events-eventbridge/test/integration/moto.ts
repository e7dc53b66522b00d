// Shared wiring for the integration tests: the real moto server from tooling/services/moto.sh
// (AWS_ENDPOINT_URL), clients, and a fresh queue + rules per use so tests never share messages.

import { CreateEventBusCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { TopicName } from "@kaireon/events-core";
import { requireService, uniqueName } from "@kaireon/events-testkit";
import { ensureRuleToQueue, type RuleToQueue, type RuleToQueueOptions } from "../../src/index.js";

export async function motoEndpoint(): Promise<string> {
  return requireService({ variable: "AWS_ENDPOINT_URL", name: "AWS emulator (moto server)" });
}

export const region = () => process.env.AWS_REGION ?? "us-east-1";

export function clients(endpoint: string) {
  return {
    eventBridge: new EventBridgeClient({ endpoint, region: region() }),
    sqs: new SQSClient({ endpoint, region: region() }),
  };
}

export { uniqueName };

export async function freshQueue(
  endpoint: string,
  topics?: readonly TopicName[],
  bus?: string,
  extra: Pick<RuleToQueueOptions, "deadLetterAfterReceives" | "visibilityTimeoutSeconds"> = {},
): Promise<RuleToQueue> {
  const { eventBridge, sqs } = clients(endpoint);
  try {
    return await ensureRuleToQueue({
      eventBridge,
      sqs,
      name: uniqueName("kaireon-it"),
      ...(topics ? { topics } : {}),
      ...(bus ? { bus } : {}),
      ...extra,
    });
  } finally {
    eventBridge.destroy();
    sqs.destroy();
  }
}

/**
 * A new bus per test file: moto evaluates every rule of a bus for every event (slowly), so rules of
 * other tests on `default` would only add load. Returns the bus ARN.
 */
export async function freshBus(endpoint: string): Promise<{ name: string; arn: string }> {
  const { eventBridge, sqs } = clients(endpoint);
  try {
    const name = uniqueName("kaireon-bus");
    const created = await eventBridge.send(new CreateEventBusCommand({ Name: name }));
    return { name, arn: created.EventBusArn ?? name };
  } finally {
    eventBridge.destroy();
    sqs.destroy();
  }
}

/** moto on a busy 2-core machine can take seconds per call: generous bounds, so tests fail on wrong results, not on a slow emulator. */
export const slowEmulator = { requestTimeoutMs: 60_000, publishTimeoutMs: 120_000 } as const;
