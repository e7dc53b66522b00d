// Loading the backend EVENT_PUBLISHER selects, through core's loader, for the CLI's commands.

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  type Env,
  type Logger,
  loadPublisher,
  loadSubscriber,
  type Publisher,
  readCoreConfig,
  type Subscriber,
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
