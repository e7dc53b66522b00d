// End to end on Kinesis Data Streams, against the moto emulator (tooling/services/moto.sh).
import { CreateStreamCommand, DescribeStreamSummaryCommand } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "@kaireon/events-kinesis";
import { requireService } from "@kaireon/events-testkit";
import { it } from "vitest";
import { runBackendScenario } from "./e2e-support.js";

it("respond → the event arrives at a Kinesis reader, equal to the stored row", async () => {
  const endpoint = await requireService({ variable: "AWS_ENDPOINT_URL", name: "AWS emulator (moto server)" });
  const stream = `demo-e2e-${Date.now().toString(36)}`;
  const client = createKinesisClient({ endpoint });
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
  for (let i = 0; i < 100; i++) {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (out.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  client.destroy();
  await runBackendScenario(
    {
      EVENT_PUBLISHER: "kinesis",
      KINESIS_STREAM: stream,
      // moto's shards are not safe for concurrent PutRecords (see events-kinesis' tests); real Kinesis is.
      KINESIS_MAX_IN_FLIGHT: "1",
      KINESIS_POLL_INTERVAL_MS: "200",
    },
    "kinesis",
  );
});
