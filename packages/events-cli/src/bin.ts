#!/usr/bin/env node
// The kaireon-events executable: real streams, the process environment, Ctrl-C as a clean stop.

import { main } from "./cli.js";

const controller = new AbortController();
let stops = 0;
const stop = () => {
  // The first Ctrl-C closes subscriptions cleanly; a second one does not wait for that.
  if (++stops > 1) process.exit(130);
  controller.abort();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

const code = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
// Flush what is buffered for a pipe, then leave even if a client library keeps a socket or timer.
process.stdout.write("", () => process.exit(code));
