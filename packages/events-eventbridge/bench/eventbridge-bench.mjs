// Batched publishing (this package: Batcher → PutEvents of ≤10 entries) against the raw SDK client
// sending one PutEvents per event, on the same emulator in the same run, with the same number of
// requests in flight. A fresh bus without rules, so the numbers are PutEvents' own cost (moto slows
// down with every rule it evaluates). Run through tooling/with-services.sh (AWS_ENDPOINT_URL).
//   BENCH_EVENTS (default 2000)  BENCH_CONCURRENCY (default 4 = EVENTBRIDGE_MAX_IN_FLIGHT's default)

import { CreateEventBusCommand, DeleteEventBusCommand, EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { createEvent, silentLogger } from "@kaireon/events-core";
import { createEventBridgePublisher, toPutEventsEntry } from "../dist/index.js";

const endpoint = process.env.AWS_ENDPOINT_URL;
if (!endpoint) {
  console.error(
    "AWS_ENDPOINT_URL is not set — run: KAIREON_SERVICES=moto bash tooling/with-services.sh pnpm --filter @kaireon/events-eventbridge bench",
  );
  process.exit(1);
}
const region = process.env.AWS_REGION ?? "us-east-1";
const total = Number(process.env.BENCH_EVENTS ?? 2000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);

const admin = new EventBridgeClient({ endpoint, region });
const bus = `kaireon-bench-${Date.now().toString(36)}`;
await admin.send(new CreateEventBusCommand({ Name: bus }));

const makeEvents = (n, tag) =>
  Array.from({ length: n }, (_, i) =>
    createEvent("decision.made.v1", {
      tenantId: "bench",
      customerId: `c${i % 100}`,
      recommendationId: `${tag}-${i}`,
      offersReturned: 3,
      topOfferId: "offer-1",
      topPropensity: 0.42,
      decisionFlowKey: "default-flow",
      timestamp: new Date().toISOString(),
    }),
  );

/** Runs `work(i)` for i < n with at most `limit` in flight. */
async function pool(n, limit, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

async function rawPerEvent(events) {
  const client = new EventBridgeClient({ endpoint, region, maxAttempts: 1 });
  let calls = 0;
  const start = performance.now();
  await pool(events.length, concurrency, async (i) => {
    calls++;
    const out = await client.send(new PutEventsCommand({ Entries: [toPutEventsEntry(events[i], bus, undefined)] }));
    if (out.FailedEntryCount) throw new Error(`entry failed: ${out.Entries?.[0]?.ErrorCode}`);
  });
  const seconds = (performance.now() - start) / 1000;
  client.destroy();
  return { seconds, calls };
}

async function batched(events) {
  const publisher = createEventBridgePublisher({
    endpoint,
    region,
    bus,
    maxInFlight: concurrency,
    logger: silentLogger,
    requestTimeoutMs: 60_000,
    publishTimeoutMs: 120_000,
  });
  let calls = 0;
  publisher.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "PutEventsCommand") calls++;
      return next(args);
    },
    { step: "finalizeRequest" },
  );
  const start = performance.now();
  const results = await Promise.all(events.map((e) => publisher.publishEvent(e)));
  const seconds = (performance.now() - start) / 1000;
  await publisher.close();
  if (results.some((r) => r.status !== "published")) throw new Error("a publish was not published");
  return { seconds, calls };
}

// Warm both paths (connections, moto's lazy imports) before measuring.
await rawPerEvent(makeEvents(20, "warm-raw"));
await batched(makeEvents(50, "warm-batched"));

const raw = await rawPerEvent(makeEvents(total, "raw"));
const ours = await batched(makeEvents(total, "batched"));
await admin.send(new DeleteEventBusCommand({ Name: bus })).catch(() => {});
admin.destroy();

const rate = (r) => total / r.seconds;
const row = (name, r) =>
  `${name.padEnd(44)} ${rate(r).toFixed(0).padStart(8)} events/s  ${String(r.calls).padStart(6)} PutEvents  ${r.seconds.toFixed(2)} s`;
console.log(`\nEventBridge on ${endpoint} (moto), ${total} events, ${concurrency} requests in flight`);
console.log(row("raw SDK client, one PutEvents per event", raw));
console.log(row("@kaireon/events-eventbridge (batched)", ours));
console.log(
  `ratio batched / one-per-event: ${(rate(ours) / rate(raw)).toFixed(1)}x events/s, ${(raw.calls / ours.calls).toFixed(1)}x fewer requests`,
);
