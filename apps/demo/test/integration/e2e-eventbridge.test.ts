// End to end on EventBridge, against the moto emulator (tooling/services/moto.sh): rules on the bus
// route every topic to SQS queues — one for the demo's live view, one for this test's consumer
// (an SQS queue hands each message to one reader, so two readers need two queues).
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SQSClient } from "@aws-sdk/client-sqs";
import { backend, ensureRuleToQueue, eventBridgeClientConfig, sqsClientConfig } from "@kaireon/events-eventbridge";
import { requireService } from "@kaireon/events-testkit";
import { it } from "vitest";
import { runBackendScenario } from "./e2e-support.js";

it("respond → the event arrives at an EventBridge → SQS subscriber, equal to the stored row", async () => {
  await requireService({ variable: "AWS_ENDPOINT_URL", name: "AWS emulator (moto server)" });
  const env = { EVENT_PUBLISHER: "eventbridge", EVENTBRIDGE_BUS: "default", EVENTBRIDGE_SQS_WAIT_SECONDS: "1" };
  const options = backend.fromEnv({ ...process.env, ...env })!;
  const eventBridge = new EventBridgeClient(eventBridgeClientConfig(options));
  const sqs = new SQSClient(sqsClientConfig(options));
  const stamp = Date.now().toString(36);
  const live = await ensureRuleToQueue({ eventBridge, sqs, name: `demo-live-${stamp}` });
  const consumer = await ensureRuleToQueue({ eventBridge, sqs, name: `demo-e2e-${stamp}` });
  eventBridge.destroy();
  sqs.destroy();
  await runBackendScenario({ ...env, EVENTBRIDGE_QUEUE_URL: live.queueUrl }, "eventbridge", { EVENTBRIDGE_QUEUE_URL: consumer.queueUrl });
});
