#!/usr/bin/env node
// The relay on its own (DEMO_RELAY=separate on the server): same environment, same database, same
// backend; drains the outbox until SIGTERM/SIGINT, finishing its in-flight batch before it exits.
// With SQLite, run it on the same machine as the server (one file); with PostgreSQL, anywhere, and
// several at once if you like (rows are claimed with SKIP LOCKED).

import { consoleLogger, loadPublisher } from "@kaireon/events-core";
import { backendEnv, readDemoOptions } from "./config.js";
import { openStore, startCheckpoints, startRelay } from "./outbox.js";

try {
  const options = readDemoOptions(process.env);
  const publisher = await loadPublisher(backendEnv(process.env), { logger: consoleLogger, resolveFrom: import.meta.url });
  if (publisher.backend === "memory") {
    consoleLogger.warn(
      "[demo] relay: EVENT_PUBLISHER is memory — events go to this process only; set a real backend to see them elsewhere",
    );
  }
  const { store, outbox } = await openStore(options);
  const relay = await startRelay(outbox, publisher, process.env, consoleLogger);
  const stopCheckpoints = startCheckpoints(outbox);
  consoleLogger.info(`[demo] relay: ${store.kind} ${store.location} → ${publisher.backend}`);
  let stopping = false;
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, async () => {
      if (stopping) process.exit(1);
      stopping = true;
      await relay.stop();
      stopCheckpoints();
      const metrics = await relay.metrics().catch(() => ({}));
      await publisher.close();
      await store.close();
      consoleLogger.info(`[demo] relay: stopped ${JSON.stringify(metrics)}`);
      process.exit(0);
    });
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
