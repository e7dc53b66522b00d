// Process signals belong to the application: it decides which ones stop the relay and what happens
// after. This helper is the usual wiring, called by the app, never installed by the library itself.

import { consoleLogger, type Logger } from "@kaireon/events-core";
import type { OutboxRelay } from "./outbox-relay.js";

export interface StopOnSignalsOptions {
  /** Says which signal arrived. Default: console. */
  logger?: Logger;
  /** Runs once the relay has stopped (e.g. close the publisher and the database, then exit). */
  afterStop?: (signal: NodeJS.Signals) => void | Promise<void>;
}

/**
 * On the first of `signals`, stops `relay` (it finishes its in-flight batch first); once stopped the
 * handlers are removed, so a later signal gets Node's default. Returns the uninstall function.
 *
 * ```ts
 * const uninstall = stopOnSignals(relay, ["SIGTERM", "SIGINT"]);
 * ```
 */
export function stopOnSignals(
  relay: Pick<OutboxRelay, "stop">,
  signals: readonly NodeJS.Signals[],
  options: StopOnSignalsOptions = {},
): () => void {
  const logger = options.logger ?? consoleLogger;
  const installed: Array<[NodeJS.Signals, () => void]> = [];
  const uninstall = () => {
    for (const [signal, handler] of installed.splice(0)) process.removeListener(signal, handler);
  };
  for (const signal of signals) {
    const handler = () => {
      logger.info(`[outbox] ${signal}: finishing the in-flight batch, then stopping`);
      void relay
        .stop()
        .finally(uninstall)
        .then(() => options.afterStop?.(signal))
        .catch((error: unknown) => logger.error(`[outbox] stopping on ${signal} failed: ${(error as Error)?.message ?? String(error)}`));
    };
    process.once(signal, handler);
    installed.push([signal, handler]);
  }
  return uninstall;
}
