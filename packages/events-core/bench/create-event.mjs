// Cost per event of the publish path's CPU part: createEvent (UUIDv7 + validation, compiled from the
// topic's JSON Schema, zod only for errors) + JSON serialisation, for each topic. The target is
// ≤ 1.5 µs per event (wall median) on the project's machines.
//
// What keeps the figures honest and comparable:
// - Both topics are warmed up before either is measured, and their rounds alternate: an application
//   creates both, so createEvent is measured in the (polymorphic) state it has there, and load on a
//   shared machine falls on both topics alike rather than on whichever runs second.
// - Every round does the same work (the same 1,000 payloads, N events) and keeps nothing alive (only
//   a length is summed); a full GC before each round starts every round from the same heap, while the
//   young-generation collections the round's own garbage causes stay inside it (a real cost).
// - Every round is printed in the order it ran (never sorted), with wall and CPU (process.cpuUsage)
//   ns/event, the medians, and the load average, so a trend or a noisy neighbour is visible.
//
// BENCH_WITHOUT_OTEL=1 runs the same with @opentelemetry/api made unresolvable (an application that
// does not install it), to compare with the default run (API installed, no SDK registered).
import { registerHooks } from "node:module";
import { loadavg } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const withoutOtel = process.env.BENCH_WITHOUT_OTEL === "1";
if (withoutOtel) {
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier === "@opentelemetry/api") throw Object.assign(new Error("blocked by the bench"), { code: "MODULE_NOT_FOUND" });
      return next(specifier, context);
    },
  });
}
const { createEvent, serializeEvent } = await import("../dist/index.js");

setFlagsFromString("--expose-gc");
const gc = globalThis.gc ?? runInNewContext("gc");

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
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const topics = Object.keys(payloads);
const inputs = Object.fromEntries(topics.map((t) => [t, Array.from({ length: 1000 }, (_, i) => payloads[t](i))]));

let sink = 0;
function run(topic, n) {
  const data = inputs[topic];
  for (let i = 0; i < n; i++) sink += serializeEvent(createEvent(topic, data[i % 1000])).length;
}

for (const topic of topics) run(topic, 50_000); // warm-up, both topics before any measurement
const wall = Object.fromEntries(topics.map((t) => [t, []]));
const cpu = Object.fromEntries(topics.map((t) => [t, []]));
const loadBefore = loadavg()[0];
for (let round = 0; round < ROUNDS; round++) {
  for (const topic of topics) {
    gc();
    const start = process.hrtime.bigint();
    const used = process.cpuUsage();
    run(topic, N);
    const elapsed = Number(process.hrtime.bigint() - start);
    const { user, system } = process.cpuUsage(used);
    wall[topic].push(elapsed / N);
    cpu[topic].push(((user + system) * 1000) / N);
  }
}
const loadAfter = loadavg()[0];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const list = (values) => values.map((v) => v.toFixed(0)).join(", ");
console.log(
  `core bench: node ${process.version}, ${ROUNDS} rounds × ${N} events per topic, rounds alternate topics, full GC before each; ` +
    `@opentelemetry/api ${withoutOtel ? "not installed (blocked)" : "installed, no SDK"}; load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}`,
);
for (const topic of topics) {
  const m = median(wall[topic]);
  console.log(
    `${topic.padEnd(24)} createEvent+validate+serialize: ${m.toFixed(0)} ns/event wall, ${median(cpu[topic]).toFixed(0)} ns/event CPU (medians) ${m <= 1500 ? "✓ ≤ 1.5 µs" : "✗ over the 1.5 µs target"}`,
  );
  console.log(`${"".padEnd(24)} rounds in run order: wall ${list(wall[topic])} ns; CPU ${list(cpu[topic])} ns`);
}
if (sink === 0) console.log("");
