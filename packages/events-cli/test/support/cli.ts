// Runs the BUILT kaireon-events (dist/bin.js) as a child process, the way a user does. Every wait is
// bounded; every child a test starts is stopped by the test.

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { uniqueName } from "@kaireon/events-testkit";

export const BIN = fileURLToPath(new URL("../../dist/bin.js", import.meta.url));

/**
 * Variables a test must not inherit: the backend's (each test sets the ones it means), and NODE_PATH,
 * which pnpm's vitest shim sets to its whole store — require.resolve would find any package there.
 */
const OWN = /^(EVENT_|REDIS_|KAFKA_(?!TEST_)|MSK_|KINESIS_|EVENTBRIDGE_|DATABASE_URL$|NO_COLOR$|FORCE_COLOR$|NODE_PATH$|NODE_ENV$)/;

export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!OWN.test(k)) env[k] = v;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string; bin?: string },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
      env: options.env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `kaireon-events ${args.join(" ")} did not exit within ${options.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** A long-running command (tail): its output so far, waits on it, and a clean stop. */
export class CliProcess {
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.on("data", (d: Buffer) => {
      this.stdout += d;
    });
    this.child.stderr?.on("data", (d: Buffer) => {
      this.stderr += d;
    });
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
  }

  get lines(): string[] {
    return this.stdout.split("\n").filter((l) => l.trim() !== "");
  }

  async waitFor(what: string, predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (this.child.exitCode !== null)
        throw new Error(`exited (${this.child.exitCode}) before ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves once the tail said its subscription is live. */
  listening(timeoutMs = 60_000): Promise<void> {
    return this.waitFor("tail: listening", () => this.stderr.includes("tail: listening"), timeoutMs);
  }

  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGINT");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A name no other run uses (testkit's uniqueName). */
export const unique = (prefix: string): string => uniqueName(prefix);

export function ndjson<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);
}
