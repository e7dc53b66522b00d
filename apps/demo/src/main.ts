#!/usr/bin/env node
// Starts the demo from the environment and stops it cleanly on SIGTERM/SIGINT.

import { startDemo } from "./container.js";
import { demoSecrets, redactText } from "./secrets.js";
import { startTelemetry } from "./telemetry.js";

const secrets = demoSecrets(process.env);
// Before anything creates an event: the SDK registers the providers the libraries look up.
const telemetry = await startTelemetry(process.env, { prometheus: true });

const container = await startDemo(process.env, { telemetry }).catch((error: Error) => {
  console.error(redactText(error?.message ?? String(error), secrets));
  process.exit(1);
});

// A stray rejection (a client gone mid-stream, a driver callback) is logged; it never takes the server down.
process.on("unhandledRejection", (reason) => {
  console.error(redactText(`[demo] unhandled rejection: ${(reason as Error)?.message ?? String(reason)}`, secrets));
});

let signals = 0;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (++signals > 1) {
      console.error("[demo] second signal: exiting now");
      process.exit(1);
    }
    console.info(`[demo] ${signal}: stopping (no new requests, draining the relay, closing the publisher)`);
    container
      .stop()
      .then(() => telemetry?.shutdown())
      .then(
        () => {
          console.info("[demo] stopped");
          process.exit(0);
        },
        (error: Error) => {
          console.error(`[demo] stop failed: ${error.message}`);
          process.exit(1);
        },
      );
  });
}
