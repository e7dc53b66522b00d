// Cost per event of the publish path's CPU part: createEvent (UUIDv7 + validation, compiled from the
// topic's JSON Schema, zod only for errors) + JSON serialisation, for each topic. Prints wall ns/event
// and CPU ns/event (process.cpuUsage: steadier when other work shares the machine); the target is
// ≤ 1.5 µs on the project's machines.
import { createEvent, serializeEvent } from "../dist/index.js";

const payloads = {
  "interaction.recorded.v1": (i) => ({
    tenantId: `tenant-${i % 10}`,
    customerId: `cust-${i % 5000}`,
    offerId: `offer-${i % 50}`,
    creativeId: i % 3 ? `creative-${i % 7}` : null,
    channelId: "email",
    interactionType: "click",
    outcomeTypeKey: "clicked",
    campaignId: "spring-sale",
    recommendationId: `rec-${i}`,
    timestamp: new Date(1_790_000_000_000 + i).toISOString(),
  }),
  "decision.made.v1": (i) => ({
    tenantId: `tenant-${i % 10}`,
    customerId: `cust-${i % 5000}`,
    recommendationId: `rec-${i}`,
    offersReturned: 5,
    topOfferId: `offer-${i % 50}`,
    topPropensity: (i % 100) / 100,
    decisionFlowKey: "default-flow",
    timestamp: new Date(1_790_000_000_000 + i).toISOString(),
  }),
};

const N = Number(process.env.BENCH_EVENTS ?? 200_000);
let sink = 0;
for (const [topic, make] of Object.entries(payloads)) {
  const inputs = Array.from({ length: 1000 }, (_, i) => make(i));
  for (let i = 0; i < 50_000; i++) sink += serializeEvent(createEvent(topic, inputs[i % 1000])).length; // warm-up
  const rounds = [];
  const cpu = [];
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    const used = process.cpuUsage();
    for (let i = 0; i < N; i++) sink += serializeEvent(createEvent(topic, inputs[i % 1000])).length;
    rounds.push(Number(process.hrtime.bigint() - start) / N);
    const { user, system } = process.cpuUsage(used);
    cpu.push(((user + system) * 1000) / N);
  }
  const byValue = (a, b) => a - b;
  rounds.sort(byValue);
  cpu.sort(byValue);
  const median = rounds[2];
  console.log(
    `${topic.padEnd(24)} createEvent+validate+serialize: ${median.toFixed(0)} ns/event wall, ${cpu[2].toFixed(0)} ns/event CPU (medians of 5 × ${N}; rounds ${rounds.map((r) => r.toFixed(0)).join(", ")} ns) ${median <= 1500 ? "✓ ≤ 1.5 µs" : "✗ over the 1.5 µs target"}`,
  );
}
if (sink === 0) console.log("");
