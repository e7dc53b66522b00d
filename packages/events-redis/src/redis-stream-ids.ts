// Where a new consumer group starts reading a stream. Stream entry ids are `<ms>-<seq>` where ms is
// the Redis server's clock at XADD, so `from: Date` maps onto that clock (not the envelope `time`).

import type { SubscribeOptions } from "@kaireon/events-core/backend";

const MAX_SEQ = "18446744073709551615";

/**
 * The id to create the group at: the group delivers entries with ids greater than it.
 * latest → `$`, earliest → `0`, a Date → the last possible id of the millisecond before it, so the
 * first entry delivered is the first one added at or after that time.
 */
export function groupStartId(from: SubscribeOptions["from"]): string {
  if (from === undefined || from === "latest") return "$";
  if (from === "earliest") return "0";
  const ms = from.getTime();
  if (!Number.isFinite(ms)) throw new RangeError("from: invalid Date");
  return ms <= 0 ? "0" : `${ms - 1}-${MAX_SEQ}`;
}

/** Milliseconds of an entry id (the server time of its XADD). */
export function streamIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}
