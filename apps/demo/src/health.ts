// What GET /health reports: the backend, the publisher's readiness, the relay's metrics (from this
// thread, the relay thread, or "separate process"), and row counts. Every part is bounded: a source
// that does not answer within HEALTH_TIMEOUT_MS is reported as `timeout: …`, so /health itself never
// hangs (a load balancer or `docker` health check would otherwise pile up requests on it).

import type { Publisher } from "@kaireon/events-core";
import type { OutboxRelay, OutboxStore } from "@kaireon/events-outbox";
import type { RelayThread } from "./relay-thread.js";
import type { DemoStore } from "./store.js";

/** How long /health waits for each of its sources. */
export const HEALTH_TIMEOUT_MS = 2000;

/**
 * `work`'s value, or `timeout: <what> did not settle within <ms> ms` once `ms` have passed; a
 * rejection becomes `<what> failed: <message>`. The work itself is not cancelled (nothing here can
 * be), only no longer waited for.
 */
export async function within<T>(work: () => Promise<T>, ms: number, what: string): Promise<T | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`timeout: ${what} did not settle within ${ms} ms`), ms);
  });
  try {
    return await Promise.race([work().catch((error: Error) => `${what} failed: ${error?.message ?? String(error)}`), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthSources {
  requested: string;
  relayMode: "thread" | "inline" | "separate";
  /** The backend, and the readiness of the publisher on this thread; without `ready` the relay's publisher is elsewhere. */
  publisher: Pick<Publisher, "backend"> & Partial<Pick<Publisher, "ready" | "metrics">>;
  relay?: Pick<OutboxRelay, "metrics"> | undefined;
  relayThread?: Pick<RelayThread, "status"> | undefined;
  store: Pick<DemoStore, "counts">;
  /** The server's own outbox: its backlog is reported when no relay drains it. */
  outbox?: Pick<OutboxStore, "stats"> | undefined;
  /** The relay's refusal when the stream is disabled (the relay does not run then). */
  relayDisabled?: () => string | undefined;
}

/** What to set so that a disabled stream publishes: only the redis backend has a disabled mode today. */
function disabledFix(requested: string): string {
  return requested === "redis"
    ? "set REDIS_URL (e.g. redis://127.0.0.1:6379) and restart the demo; the events wait in the outbox until then"
    : "configure the backend EVENT_PUBLISHER selects and restart the demo; the events wait in the outbox until then";
}

export async function healthReport(sources: HealthSources, timeoutMs = HEALTH_TIMEOUT_MS): Promise<Record<string, unknown>> {
  const { publisher, relay, store, outbox } = sources;
  const disabled = sources.relayDisabled?.();
  // A relay that refused a disabled stream is not asked; the thread's worker has ended then.
  const relayThread = disabled ? undefined : sources.relayThread;
  // The relay thread bounds its own reply (RelayThread.status); the parts asked here are bounded here.
  const [thread, ready, metrics, backlog, counts] = await Promise.all([
    relayThread?.status(),
    relayThread
      ? undefined
      : publisher.ready
        ? within(() => (publisher as Pick<Publisher, "ready">).ready(), timeoutMs, "publisher.ready()")
        : "separate process",
    relay ? within(() => relay.metrics(), timeoutMs, "relay.metrics()") : undefined,
    disabled && outbox ? within(() => outbox.stats(), timeoutMs, "outbox.stats()") : undefined,
    within(() => store.counts(), timeoutMs, "store.counts()"),
  ]);
  const notRunning = disabled && {
    running: false,
    reason: "publisher-disabled",
    message: disabled,
    fix: disabledFix(sources.requested),
    ...(typeof backlog === "object" ? backlog : { backlog }),
  };
  return {
    backend: publisher.backend,
    requested: sources.requested,
    publisher: thread ? thread.publisher : ready,
    // Pending and failures by code of the relay's publisher; absent in DEMO_RELAY=separate (its own process).
    ...(thread?.publisherMetrics
      ? { publisherMetrics: thread.publisherMetrics }
      : publisher.metrics
        ? { publisherMetrics: publisher.metrics() }
        : {}),
    relay: notRunning || (relay ? metrics : thread ? thread.relay : "separate process"),
    relayMode: sources.relayMode,
    counts,
  };
}
