// What a command may touch: its streams and environment, passed in so tests and the bin share one path.
// Colour only on a terminal and never with NO_COLOR set (https://no-color.org).

import * as util from "node:util";
import type { Env } from "@kaireon/events-core";

export interface CliStreams {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface CliIo extends CliStreams {
  env: Env;
  /** Where relative paths and backend packages are resolved from. */
  cwd: string;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly. */
  signal: AbortSignal;
}

type Style = "bold" | "dim" | "red" | "green" | "yellow" | "cyan" | "magenta" | "blue" | "gray";

export interface Painter {
  readonly enabled: boolean;
  paint(style: Style | Style[], text: string): string;
}

export function painter(stream: { isTTY?: boolean }, env: Env): Painter {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  const styleText = (util as { styleText?: (format: Style | Style[], text: string) => string }).styleText;
  const enabled = stream.isTTY === true && !noColor && env.TERM !== "dumb" && typeof styleText === "function";
  return {
    enabled,
    paint: (style, text) => (enabled && styleText ? styleText(style, text) : text),
  };
}

export function writeLine(stream: NodeJS.WritableStream, line: string): boolean {
  return stream.write(`${line}\n`);
}
