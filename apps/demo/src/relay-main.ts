#!/usr/bin/env node
// The relay on its own (DEMO_RELAY=separate on the server): same environment, same database, same
// backend; drains the outbox until SIGTERM/SIGINT, finishing its in-flight batch before it exits.
// With SQLite, run it on the same machine as the server (one file); with PostgreSQL, anywhere, and
// several at once if you like (rows are claimed with SKIP LOCKED).

import { consoleLogger } from "@kaireon/events-core";
import { startStandaloneRelay } from "./outbox.js";
import { demoSecrets, redactingLogger, redactText } from "./secrets.js";

const logger = redactingLogger(consoleLogger, demoSecrets(process.env));

try {
  const { publisher, store, stop } = await startStandaloneRelay(process.env, logger);
  if (publisher.backend === "memory") {
    logger.warn("[demo] relay: EVENT_PUBLISHER is memory — events go to this process only; set a real backend to see them elsewhere");
  }
  logger.info(`[demo] relay: ${store.kind} ${store.location} → ${publisher.backend}`);
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, async () => {
      if (stopping) process.exit(1);
      stopping = true;
      const metrics = await stop();
      logger.info(`[demo] relay: stopped ${JSON.stringify(metrics ?? {})}`);
      process.exit(0);
    });
  }
} catch (error) {
  console.error(redactText((error as Error)?.message ?? String(error), demoSecrets(process.env)));
  process.exit(1);
}
