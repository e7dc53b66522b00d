// The one list of backends that live in their own package: id → npm package → importer, plus the
// other EVENT_PUBLISHER values that select it. Config values, the loader and the not-installed
// message all derive from it. Each importer is a literal import() so bundlers see the package.
// Only config.ts and loader.ts may import this file: it reaches every backend, and every backend
// imports the backend kit, so the kit importing it would be a cycle.

import type { BackendModule } from "./backend.js";

interface BackendEntry {
  readonly packageName: string;
  /** Other EVENT_PUBLISHER values that select this backend. */
  readonly aliases: readonly string[];
  readonly load: () => Promise<BackendModule>;
}

export const backendRegistry = {
  redis: { packageName: "@kaireon/events-redis", aliases: [], load: () => import("@kaireon/events-redis") },
  kafka: { packageName: "@kaireon/events-kafka", aliases: ["redpanda"], load: () => import("@kaireon/events-kafka") },
  msk: { packageName: "@kaireon/events-msk", aliases: ["aws_msk"], load: () => import("@kaireon/events-msk") },
  eventbridge: { packageName: "@kaireon/events-eventbridge", aliases: [], load: () => import("@kaireon/events-eventbridge") },
  kinesis: { packageName: "@kaireon/events-kinesis", aliases: [], load: () => import("@kaireon/events-kinesis") },
} as const satisfies Record<string, BackendEntry>;
