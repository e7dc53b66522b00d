// Wires "rule on the bus → SQS queue" for tests, demos and first steps: one rule per topic
// (detail-type = topic), the queue, the queue policy that lets EventBridge send to it, the target.
// Idempotent: running it again updates the same rules and queue. In production, declare the same
// resources in your infrastructure code (see the README) rather than calling this at start-up.

import { type EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { PublishError, type TopicName, topicNames } from "@kaireon/events-core/backend";

export interface RuleToQueueOptions {
  eventBridge: EventBridgeClient;
  sqs: SQSClient;
  /** Queue name, also the prefix of the rule names. Letters, digits, - and _. */
  name: string;
  /** Bus name or ARN; default `default`. */
  bus?: string;
  /** One rule per topic; default every topic. */
  topics?: readonly TopicName[];
  /** Also match on Source (e.g. your EVENTBRIDGE_SOURCE), so another publisher's same detail-type is not delivered. */
  source?: string;
  /** Create a dead-letter queue `<name>-dlq` and move a message there after this many receives. */
  deadLetterAfterReceives?: number;
  /** The queue's visibility timeout: how long a received, undeleted message stays hidden (SQS default 30 s). */
  visibilityTimeoutSeconds?: number;
}

export interface RuleToQueue {
  queueUrl: string;
  queueArn: string;
  ruleArns: string[];
  deadLetterQueueUrl?: string;
}

/** The event pattern a rule for `topic` uses: `{"detail-type": [topic]}` (plus the source when given). */
export function eventPatternFor(topic: TopicName, source?: string): Record<string, string[]> {
  return source === undefined ? { "detail-type": [topic] } : { source: [source], "detail-type": [topic] };
}

/** The rule name for a topic: `<prefix>-interaction-recorded-v1`. */
export function ruleNameFor(prefix: string, topic: TopicName): string {
  return `${prefix}-${topic.replaceAll(".", "-")}`.slice(0, 64);
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string> = {}) {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const queueUrl = created.QueueUrl;
  if (!queueUrl) throw new PublishError({ backend: "eventbridge", message: `[eventbridge] SQS created queue ${name} without a QueueUrl` });
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  const queueArn = attrs.Attributes?.QueueArn;
  if (!queueArn) throw new PublishError({ backend: "eventbridge", message: `[eventbridge] SQS returned no QueueArn for ${name}` });
  return { queueUrl, queueArn };
}

export async function ensureRuleToQueue(options: RuleToQueueOptions): Promise<RuleToQueue> {
  const { eventBridge, sqs, name, bus = "default", topics = topicNames, source } = options;
  let dlq: { queueUrl: string; queueArn: string } | undefined;
  const attributes: Record<string, string> = {};
  if (options.visibilityTimeoutSeconds !== undefined) attributes.VisibilityTimeout = String(options.visibilityTimeoutSeconds);
  if (options.deadLetterAfterReceives !== undefined) {
    dlq = await createQueue(sqs, `${name}-dlq`);
    attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: options.deadLetterAfterReceives });
  }
  const queue = await createQueue(sqs, name, attributes);
  const ruleArns: string[] = [];
  for (const topic of topics) {
    const rule = await eventBridge.send(
      new PutRuleCommand({
        Name: ruleNameFor(name, topic),
        EventBusName: bus,
        EventPattern: JSON.stringify(eventPatternFor(topic, source)),
        State: "ENABLED",
        Description: `Kaireon ${topic} → SQS ${name}`,
      }),
    );
    if (rule.RuleArn) ruleArns.push(rule.RuleArn);
    const targets = await eventBridge.send(
      new PutTargetsCommand({ Rule: ruleNameFor(name, topic), EventBusName: bus, Targets: [{ Id: "sqs", Arn: queue.queueArn }] }),
    );
    if ((targets.FailedEntryCount ?? 0) > 0) {
      const failed = targets.FailedEntries?.[0];
      throw new PublishError({
        backend: "eventbridge",
        message: `[eventbridge] could not add queue ${name} as target of rule ${ruleNameFor(name, topic)}: ${failed?.ErrorCode}: ${failed?.ErrorMessage}`,
      });
    }
  }
  // Without this policy real EventBridge cannot deliver to the queue (moto does not check it).
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: queue.queueUrl,
      Attributes: {
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AllowEventBridgeRules",
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: "sqs:SendMessage",
              Resource: queue.queueArn,
              Condition: { ArnEquals: { "aws:SourceArn": ruleArns } },
            },
          ],
        }),
      },
    }),
  );
  return { ...queue, ruleArns, ...(dlq ? { deadLetterQueueUrl: dlq.queueUrl } : {}) };
}
