// Exit codes and the one way errors reach the user: `code: message`, never a stack trace for an
// error we expect (bad input, a backend that says no). Only a bug prints its stack.

import { EventsError } from "@kaireon/events-core";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Bad input: a wrong flag, a missing argument, an invalid line. Exit code 2. */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Something the user can fix that is not bad input (nothing to read, a missing package). Exit code 1. */
export class CliFailure extends Error {
  readonly exitCode = EXIT_FAILURE;
  constructor(
    message: string,
    readonly code = "FAILED",
  ) {
    super(message);
    this.name = "CliFailure";
  }
}

/** The line printed for an error, and the exit code it gives. */
export function describeError(error: unknown): { text: string; exitCode: number; expected: boolean } {
  if (error instanceof UsageError) return { text: `usage: ${error.message}`, exitCode: EXIT_USAGE, expected: true };
  if (error instanceof CliFailure) return { text: `${error.code}: ${error.message}`, exitCode: EXIT_FAILURE, expected: true };
  if (EventsError.isInstance(error)) {
    const bad = error.code === "VALIDATION_FAILED" || error.code === "UNKNOWN_TOPIC";
    return { text: `${error.code}: ${error.message}`, exitCode: bad ? EXIT_USAGE : EXIT_FAILURE, expected: true };
  }
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
    // A system error (ENOENT on --file, EACCES, ECONNREFUSED): its message is the useful part.
    return { text: `${code}: ${(error as Error).message}`, exitCode: EXIT_FAILURE, expected: true };
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { text: `unexpected error (a bug in kaireon-events — please report it):\n${text}`, exitCode: EXIT_FAILURE, expected: false };
}
