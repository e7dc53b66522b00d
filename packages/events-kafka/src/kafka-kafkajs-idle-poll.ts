// kafkajs 2.2.4 polls every connection's request queue every millisecond while nothing waits in it:
// after each answer it schedules a check at `throttledUntil - Date.now()`, which with no throttle
// (throttledUntil -1) is about -1.8e12 ms. Node runs such a timer after 1 ms (Node 24 says so once:
// "TimeoutNegativeWarning: -17961... is a negative number"), the check finds nothing and schedules the
// next one — for as long as the connection is open: about 30 ms of CPU a second for one idle producer,
// measured here, and the same for every consumer and admin connection (kafkajs#1704, #1751; the fixes
// are open pull requests, and kafkajs has had no release since February 2023).
// With nothing pending and no throttle to wait out there is nothing to check: a request that cannot
// be sent at once is queued by push(), which schedules the check itself, and every answer checks the
// queue again. So the schedule is skipped then; everything else runs as kafkajs wrote it.

import { createRequire } from "node:module";

interface RequestQueueShape {
  pending: unknown[];
  throttledUntil: number;
  scheduleCheckPendingRequests(): void;
}

const patched = Symbol.for("@kaireon/events-kafka.kafkajs-idle-poll");

/** The kafkajs RequestQueue class this process loads (the one its connections use), or undefined. */
export function kafkajsRequestQueue(): (new (...args: never[]) => RequestQueueShape) | undefined {
  try {
    const require = createRequire(import.meta.url);
    const version = (require("kafkajs/package.json") as { version?: string }).version ?? "";
    // Only the release line whose code is described above.
    if (!version.startsWith("2.")) return undefined;
    return require("kafkajs/src/network/requestQueue/index.js") as new (
      ...args: never[]
    ) => RequestQueueShape;
  } catch {
    return undefined;
  }
}

/** Stops kafkajs' idle 1 ms polling (above). Idempotent; a kafkajs laid out differently is left as it is. */
export function stopKafkajsIdlePolling(): void {
  const RequestQueue = kafkajsRequestQueue();
  const proto = RequestQueue?.prototype as (RequestQueueShape & { [patched]?: true }) | undefined;
  if (!proto || proto[patched] || typeof proto.scheduleCheckPendingRequests !== "function") return;
  const schedule = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function (this: RequestQueueShape) {
    if (this.pending.length === 0 && !(this.throttledUntil > Date.now())) return;
    schedule.call(this);
  };
  proto[patched] = true;
}
