// Our spans beside @opentelemetry/instrumentation-aws-sdk, on moto (tooling/services/moto.sh), for
// the two AWS backends: test/fixtures/otel-aws-sdk.mjs runs as a plain Node process (there the AWS
// SDK loads as CommonJS, which the instrumentation patches; this runner would give it the ESM build),
// publishes 5 events from one request span to EventBridge and to Kinesis, reads them back and prints
// the spans. What a user who runs both sees: one `send` of ours per request with the SDK's CLIENT span
// for that call (PutEvents, PutRecords) under it; one `process` of ours per event; the SDK's own
// spans for the reads — CLIENT spans, and for SQS a `receive` CONSUMER span per ReceiveMessage — and
// no second span per message.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { requireService } from "@kaireon/events-testkit";
import { expect, it } from "vitest";

interface SpanShape {
  name: string;
  kind: number;
  scope: string;
  spanId: string;
  parent?: string;
  links: string[];
  attributes: Record<string, unknown>;
}
const SERVER = 1;
const CLIENT = 2;
const PRODUCER = 3;
const CONSUMER = 4;

it("with the aws-sdk instrumentation (EventBridge, Kinesis): one send per request with the SDK call under it, one process per event, no second span per message", async () => {
  await requireService({ variable: "AWS_ENDPOINT_URL", name: "AWS emulator (moto server)" });
  const fixture = fileURLToPath(new URL("../fixtures/otel-aws-sdk.mjs", import.meta.url));
  const run = spawnSync(process.execPath, [fixture], { encoding: "utf8", timeout: 150_000, env: process.env });
  expect(run.status, `the fixture failed: ${run.stderr}`).toBe(0);
  const spans: SpanShape[] = run.stdout
    .split("\n")
    .filter((l) => l.startsWith("SPAN "))
    .map((l) => JSON.parse(l.slice(5)) as SpanShape);
  const ours = (operation: string) => spans.filter((s) => s.scope.startsWith("@kaireon/") && s.name.startsWith(operation));
  const sdk = spans.filter((s) => s.scope === "@opentelemetry/instrumentation-aws-sdk");
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  // The instrumentation is live: without its spans this test would prove nothing.
  expect(sdk.length).toBeGreaterThan(0);

  for (const [backend, call] of [
    ["eventbridge", "EventBridge.PutEvents"],
    ["kinesis", "Kinesis.PutRecords"],
  ] as const) {
    const request = spans.find((s) => s.kind === SERVER && s.name.endsWith(backend));
    expect(request, `${backend}: the request span`).toBeDefined();
    const creates = ours("create").filter((s) => s.parent === request?.spanId);
    expect(creates, `${backend}: create spans`).toHaveLength(5);
    // One send of ours per request, linked to the creates it carried; the SDK's call inside it.
    const sends = ours("send").filter((s) => s.links.some((l) => creates.some((c) => c.spanId === l)));
    expect(sends.flatMap((s) => s.links).sort()).toEqual(creates.map((c) => c.spanId).sort());
    // CLIENT: with create spans of their own, the conventions make the send span a client span.
    for (const send of sends) expect(send.kind).toBe(CLIENT);
    const calls = sdk.filter((s) => s.name === call);
    expect(calls.length, `${backend}: ${call} spans`).toBeGreaterThanOrEqual(1);
    for (const c of calls) {
      expect(c.kind).toBe(CLIENT);
      expect(byId.get(c.parent ?? "")?.scope, `${call}: under our send span`).toBe("@kaireon/events-core");
    }
    // One process of ours per event, linked to its creation context.
    for (const create of creates) {
      expect(
        ours("process").filter((s) => s.links.includes(create.spanId)),
        `${backend}: process spans of one event`,
      ).toHaveLength(1);
    }
  }
  // The SDK's reads: CLIENT spans, and SQS ReceiveMessage as a `receive` CONSUMER span per call —
  // never a span per message beside our process spans.
  for (const s of sdk.filter((s) => s.kind === CONSUMER)) {
    expect(s.attributes["messaging.operation.type"], s.name).toBe("receive");
    expect(s.links, s.name).toEqual([]);
  }
  expect(sdk.filter((s) => s.kind === PRODUCER)).toEqual([]);
});
