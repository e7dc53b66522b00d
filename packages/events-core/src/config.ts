// The core variables (EVENT_PUBLISHER, EVENT_SOURCE) and the values EVENT_PUBLISHER accepts, derived
// from the backend registry. The env helpers backends use are in env.ts.

import { backendRegistry } from "./backend-registry.js";
import type { Env } from "./env.js";
import { DEFAULT_SOURCE } from "./envelope.js";
import { ConfigError } from "./errors.js";

type Registry = typeof backendRegistry;
/** A backend that lives in its own package. */
export type PackageBackendId = keyof Registry;
export type BackendId = PackageBackendId | "memory";
type AliasOf<K extends PackageBackendId> = Registry[K]["aliases"][number];
export type EventPublisherValue = BackendId | { [K in PackageBackendId]: AliasOf<K> }[PackageBackendId];
type Selects<V extends EventPublisherValue> = V extends "memory"
  ? "memory"
  : { [K in PackageBackendId]: V extends K | AliasOf<K> ? K : never }[PackageBackendId];

/** Values EVENT_PUBLISHER accepts, with the backend each selects (from the registry: each id, then its aliases). */
export const eventPublisherValues = Object.fromEntries([
  ...Object.entries(backendRegistry).flatMap(([id, entry]) => [id, ...entry.aliases].map((value) => [value, id])),
  ["memory", "memory"],
]) as { readonly [V in EventPublisherValue]: Selects<V> };

/** The npm package of each backend that lives in its own package. */
export const backendPackages = Object.fromEntries(Object.entries(backendRegistry).map(([id, entry]) => [id, entry.packageName])) as {
  readonly [K in PackageBackendId]: Registry[K]["packageName"];
};

const validValues = Object.keys(eventPublisherValues) as EventPublisherValue[];

export interface CoreConfig {
  /** What EVENT_PUBLISHER said (lower-cased), e.g. `redpanda`. */
  requested: EventPublisherValue;
  /** The backend it selects, e.g. `kafka`. */
  backend: BackendId;
  /** EVENT_SOURCE: the envelope `source` of events built by publish(). */
  source: string;
}

/** Reads EVENT_PUBLISHER (default redis) and EVENT_SOURCE. */
export function readCoreConfig(env: Env = process.env): CoreConfig {
  const raw = env.EVENT_PUBLISHER?.trim().toLowerCase() || "redis";
  if (!Object.hasOwn(eventPublisherValues, raw)) {
    throw new ConfigError({
      message: `[core] EVENT_PUBLISHER="${env.EVENT_PUBLISHER}" is not a backend — set it to one of: ${validValues.join(", ")}`,
      details: { variable: "EVENT_PUBLISHER", valid: validValues },
    });
  }
  const requested = raw as EventPublisherValue;
  const source = env.EVENT_SOURCE?.trim() || DEFAULT_SOURCE;
  return { requested, backend: eventPublisherValues[requested], source };
}
