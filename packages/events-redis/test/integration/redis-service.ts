// Where the integration tests find Redis: REDIS_URL (tooling/with-services.sh starts a redis-server
// and sets it), or — for users with Docker and no REDIS_URL — a throwaway container started with
// testcontainers (never in CI, where a missing Redis fails the run).
import { requireService, uniqueName } from "@kaireon/events-testkit";

export function redisUrl(): Promise<string> {
  return requireService({
    variable: "REDIS_URL",
    name: "Redis server",
    container: async () => {
      const { GenericContainer, Wait } = await import("testcontainers");
      const container = await new GenericContainer("redis:7-alpine")
        .withCommand(["redis-server", "--save", "", "--appendonly", "no"])
        .withExposedPorts(6379)
        .withWaitStrategy(Wait.forLogMessage("Ready to accept connections"))
        .start();
      // Testcontainers' reaper removes the container when this process ends.
      return `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
    },
  });
}

/** A prefix no other run uses, so streams left by earlier runs never confuse a test. */
export function uniquePrefix(label: string): string {
  return `${uniqueName(`test:${label}`, ":")}:`;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A redis-server of the test's own (REDIS_SERVER_BIN, exported by tooling/services/redis.sh, or
 * redis-server on PATH) with a password, for tests that kill it or need `requirepass`. Stopped by PID.
 */
export class OwnRedisServer {
  private child: import("node:child_process").ChildProcess | undefined;

  /** `extraArgs`: more redis-server arguments (e.g. `--rename-command EVALSHA ""`). */
  constructor(
    readonly password: string,
    readonly extraArgs: readonly string[] = [],
  ) {}

  /**
   * Starts it on `port` (again after a kill: same port, empty) and waits for PING. One still running
   * is stopped first: a second start must not orphan it (it would outlive the test run).
   */
  async start(port: number): Promise<void> {
    await this.kill();
    const { spawn } = await import("node:child_process");
    const { Redis } = await import("ioredis");
    const bin = process.env.REDIS_SERVER_BIN || "redis-server";
    const child = spawn(
      bin,
      [
        "--bind",
        "127.0.0.1",
        "--port",
        String(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--requirepass",
        this.password,
        ...this.extraArgs,
      ],
      { stdio: "ignore" },
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (e) =>
        reject(new Error(`cannot start ${bin} (run through tooling/with-services.sh, which installs it): ${e.message}`)),
      );
    });
    const probe = new Redis({
      port,
      host: "127.0.0.1",
      password: this.password,
      lazyConnect: true,
      retryStrategy: () => 100,
      maxRetriesPerRequest: 0,
    });
    probe.on("error", () => {});
    try {
      for (let i = 0; i < 100; i++) {
        if ((await probe.ping().catch(() => "")) === "PONG") return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`redis-server on port ${port} did not answer PING`);
    } finally {
      probe.disconnect();
    }
  }

  /** SIGKILL (a crash); resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }
}

/** Both ways a publisher sends (REDIS_SEND_MODE): the suites that guard behaviour run in each. */
export const SEND_MODES = ["script", "pipeline"] as const;
