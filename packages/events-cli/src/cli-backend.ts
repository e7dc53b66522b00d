// Loading the backend EVENT_PUBLISHER selects, through core's loader, for the CLI's commands.

import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { hostname } from "node:os";
import { pathToFileURL } from "node:url";
import {
  type Env,
  type Logger,
  loadBackend,
  loadPublisher,
  loadSubscriber,
  type Publisher,
  readCoreConfig,
  redactSecrets,
  type Subscriber,
  type TopicName,
  urlSecrets,
} from "@kaireon/events-core";

/** Backends whose subscriber can start from `earliest` or a time (replay). */
export const durableBackends: readonly string[] = ["kafka", "msk", "kinesis", "redis streams"];

export function backendLabel(env: Env): string {
  const { backend } = readCoreConfig(env);
  if (backend !== "redis") return backend;
  return `redis ${(env.REDIS_MODE ?? "").trim().toLowerCase() === "streams" ? "streams" : "pubsub"}`;
}

/** A consumer group of its own for one tail or replay, so it never takes messages from the application's groups. */
export function uniqueGroup(command: string): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9-]/g, "-")
    .slice(0, 32);
  return `kaireon-events-${command}-${host}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

export function openPublisher(env: Env, logger: Logger, cwd: string): Promise<Publisher> {
  return loadPublisher(env, { logger, resolveFrom: `${cwd}/` });
}

export function openSubscriber(env: Env, logger: Logger, cwd: string): Promise<Subscriber> {
  return loadSubscriber(env, { logger, resolveFrom: `${cwd}/` });
}

/**
 * Redis Streams keeps a consumer group until it is destroyed, so a tail's or replay's own group is
 * removed when it ends (best effort, bounded). The redis package has no call for it, so this uses
 * the ioredis that package itself depends on.
 */
export async function dropOwnRedisGroup(env: Env, topics: readonly TopicName[], group: string): Promise<string | undefined> {
  let client: { disconnect(): void } | undefined;
  try {
    const descriptor = await loadBackend("redis");
    const options = descriptor.fromEnv(env) as { url: string; prefix: string } | undefined;
    if (!options) return undefined;
    const redisPackage = (await import("@kaireon/events-redis")) as typeof import("@kaireon/events-redis");
    const beside = createRequire(import.meta.resolve("@kaireon/events-redis"));
    const ioredis = (await import(pathToFileURL(beside.resolve("ioredis")).href)) as typeof import("ioredis");
    const redis = new ioredis.Redis(options.url, {
      lazyConnect: true,
      connectTimeout: 5_000,
      commandTimeout: 5_000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on("error", () => {});
    client = redis;
    await redis.connect();
    for (const topic of topics) await redis.xgroup("DESTROY", redisPackage.redisKeyOf(options, topic), group);
    return undefined;
  } catch (error) {
    return `could not remove its consumer group ${group} (${redactSecrets((error as Error).message, urlSecrets(env.REDIS_URL))}) — XGROUP DESTROY it by hand`;
  } finally {
    client?.disconnect();
  }
}
