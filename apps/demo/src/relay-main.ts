#!/usr/bin/env node
// The relay on its own (DEMO_RELAY=separate on the server): same environment, same database, same
// backend; drains the outbox until SIGTERM/SIGINT, finishing its in-flight batch before it exits.
// With SQLite, run it on the same machine as the server (one file); with PostgreSQL, anywhere, and
// several at once if you like (each partition key is claimed by one relay at a time).

import { consoleLogger } from "@kaireon/events-core";
import { stopOnSignals } from "@kaireon/events-outbox";
import { describeLocation, runRelay } from "./relay.js";
import { readRelaySetup } from "./relay-setup.js";
import { demoSecrets, redactingLogger, redactText } from "./secrets.js";
import { startTelemetry } from "./telemetry.js";

const logger = redactingLogger(consoleLogger, demoSecrets(process.env));

try {
  // This process's one reading of the environment; it may start before the server, so it creates
  // the SQLite file and migrates the outbox if need be.
  const telemetry = await startTelemetry(process.env, { prometheus: false });
  const setup = await readRelaySetup(process.env);
  const { publisher, relay, stop } = await runRelay(setup, logger, { prepare: true, separate: true });
  if (publisher.backend === "memory") {
    logger.warn("[demo] relay: EVENT_PUBLISHER is memory — events go to this process only; set a real backend to see them elsewhere");
  }
  logger.info(`[demo] relay: ${describeLocation(setup.database)} → ${publisher.backend}`);
  stopOnSignals(relay, ["SIGTERM", "SIGINT"], {
    logger,
    afterStop: async () => {
      const metrics = await stop();
      await telemetry?.shutdown();
      logger.info(`[demo] relay: stopped ${JSON.stringify(metrics ?? {})}`);
      process.exit(0);
    },
  });
} catch (error) {
  console.error(redactText((error as Error)?.message ?? String(error), demoSecrets(process.env)));
  process.exit(1);
}
