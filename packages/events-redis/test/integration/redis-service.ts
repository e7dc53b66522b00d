// Where the integration tests find Redis: REDIS_URL (tooling/with-services.sh starts a redis-server
// and sets it), or — for users with Docker and no REDIS_URL — a throwaway container started with
// testcontainers (never in CI, where a missing Redis fails the run).
import { requireService } from "@kaireon/events-testkit";

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
  return `test:${label}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:`;
}
