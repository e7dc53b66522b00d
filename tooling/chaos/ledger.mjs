// The ledger's arithmetic, apart from everything that runs processes so it can be tested alone
// (ledger.test.mjs): what the store holds against what an independent consumer read.

/**
 * @typedef {{ id: string, topic: string, key: string, seq: number }} StoredEvent
 *   An event the store committed: its id, topic and partition key, and `seq`, its place in the
 *   outbox (the order the relay must keep per key).
 * @typedef {{ id: string, part: string }} Delivery
 *   One record as read, in the order it was read within its `part` (Redis stream key, Kafka
 *   partition, Kinesis shard, the SQS queue or the pub/sub connection). A key lives in one part on
 *   every backend that orders, so the order across parts does not matter.
 */

/**
 * Counts, per run:
 * - `distinct`: stored events that arrived at least once;
 * - `missing`: stored events that never arrived;
 * - `duplicates`: deliveries of a stored event beyond its first (at-least-once re-sends);
 * - `outOfOrder`: per (topic, key), events whose FIRST delivery came after the first delivery of an
 *   event of the same (topic, key) stored later. Re-sends of an event already delivered do not count
 *   (a consumer that dedupes on the id sees them in order); a gap (a missing event) does not either.
 * - `unexpected`: deliveries of ids the store does not hold (another writer on the same name: the run
 *   names are unique, so this should be 0).
 *
 * @param {StoredEvent[]} stored
 * @param {Delivery[]} deliveries
 */
export function compareLedger(stored, deliveries) {
  /** @type {Map<string, StoredEvent>} */
  const byId = new Map();
  for (const event of stored) byId.set(event.id.toLowerCase(), event);
  /** @type {Map<string, number>} */
  const times = new Map();
  /** @type {Map<string, number>} highest seq first-delivered so far, per (topic, key) */
  const highest = new Map();
  let unexpected = 0;
  let outOfOrder = 0;
  /** @type {string[]} */
  const outOfOrderSamples = [];
  for (const delivery of deliveries) {
    const id = String(delivery.id ?? "").toLowerCase();
    const event = byId.get(id);
    if (!event) {
      unexpected++;
      continue;
    }
    const seen = times.get(id) ?? 0;
    times.set(id, seen + 1);
    if (seen > 0) continue;
    const lane = `${event.topic}\u0000${event.key}`;
    const top = highest.get(lane);
    if (top !== undefined && event.seq < top) {
      outOfOrder++;
      if (outOfOrderSamples.length < 5) outOfOrderSamples.push(`${event.topic} ${event.key}: seq ${event.seq} after ${top}`);
    } else {
      highest.set(lane, event.seq);
    }
  }
  let deliveredOfStored = 0;
  for (const n of times.values()) deliveredOfStored += n;
  const distinct = times.size;
  /** @type {StoredEvent[]} */
  const missingEvents = stored.filter((event) => !times.has(event.id.toLowerCase()));
  return {
    stored: stored.length,
    distinct,
    missing: missingEvents.length,
    duplicates: deliveredOfStored - distinct,
    outOfOrder,
    unexpected,
    missingEvents,
    outOfOrderSamples,
  };
}

/**
 * The one line per backend, in exactly the shape the issue fixes (people and scripts read it):
 * `ledger <backend>: <stored> stored, <distinct> delivered, <missing> missing, <dup> duplicates, <ooo> out of order, <failed> failed requests`
 */
export function ledgerLine(name, counts, failedRequests) {
  return (
    `ledger ${name}: ${counts.stored} stored, ${counts.distinct} delivered, ${counts.missing} missing, ` +
    `${counts.duplicates} duplicates, ${counts.outOfOrder} out of order, ${failedRequests} failed requests`
  );
}
