// @kaireon/events-cli: the kaireon-events command. `main` runs a command line with the streams and
// environment you give it (the bin passes the process's), for embedding and tests.

export { main, mainHelp, version } from "./cli.js";
export { describeError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./cli-errors.js";
export type { CliIo, CliStreams } from "./cli-io.js";
