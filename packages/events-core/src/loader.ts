// Picks the backend from EVENT_PUBLISHER and imports its package through the registry
// (backend-registry.ts), whose literal import()s bundlers see. Under pnpm's strict layout core cannot see packages it does
// not depend on, so when the literal import fails we resolve the package from the application
// (its main script, then the working directory, or `resolveFrom`) before giving up with a
// BackendNotInstalledError that says what to install.

import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BackendContext, BackendDescriptor, BackendModule } from "./backend.js";
import { backendRegistry } from "./backend-registry.js";
import { type PackageBackendId, readCoreConfig } from "./config.js";
import { DisabledPublisher } from "./disabled-publisher.js";
import type { Env } from "./env.js";
import { BackendNotInstalledError, ConfigError } from "./errors.js";
import { consoleLogger } from "./logger.js";
import { createMemoryPublisher, createMemorySubscriber, type MemoryBus } from "./memory-backend.js";
import type { Logger, Publisher, Subscriber } from "./ports.js";

export interface LoadOptions {
  logger?: Logger;
  /** Where to resolve backend packages from (a file or directory of the application). */
  resolveFrom?: string | URL;
  /** The bus for EVENT_PUBLISHER=memory (default: the process-wide one). */
  memoryBus?: MemoryBus;
}

function isNotFound(error: unknown, packageName: string): boolean {
  const e = error as { code?: string; message?: string } | null;
  return (
    (e?.code === "ERR_MODULE_NOT_FOUND" || e?.code === "MODULE_NOT_FOUND") &&
    typeof e.message === "string" &&
    (e.message.includes(`'${packageName}'`) || e.message.includes(`"${packageName}"`) || e.message.includes(`${packageName}/`))
  );
}

function applicationBases(resolveFrom: LoadOptions["resolveFrom"]): string[] {
  const bases: string[] = [];
  if (resolveFrom !== undefined) bases.push(resolveFrom instanceof URL ? resolveFrom.href : resolveFrom);
  if (process.argv[1]) bases.push(process.argv[1]);
  bases.push(join(process.cwd(), "noop.js"));
  return bases;
}

async function importFromApplication(packageName: string, resolveFrom: LoadOptions["resolveFrom"]): Promise<BackendModule | undefined> {
  for (const base of applicationBases(resolveFrom)) {
    let resolved: string;
    try {
      resolved = createRequire(base).resolve(packageName);
    } catch {
      continue;
    }
    return (await import(pathToFileURL(resolved).href)) as BackendModule;
  }
  return undefined;
}

/** Imports the backend package of `id`; throws BackendNotInstalledError when it is not installed. */
export async function loadBackend(id: PackageBackendId, options: Pick<LoadOptions, "resolveFrom"> = {}): Promise<BackendDescriptor> {
  const { packageName, load } = backendRegistry[id];
  let mod: BackendModule | undefined;
  try {
    mod = await load();
  } catch (error) {
    if (!isNotFound(error, packageName)) {
      throw new ConfigError({
        backend: id,
        code: "BACKEND_INVALID",
        message: `[${id}] ${packageName} failed to load: ${(error as Error)?.message}`,
        cause: error,
      });
    }
    mod = await importFromApplication(packageName, options.resolveFrom).catch(() => undefined);
    if (!mod) throw new BackendNotInstalledError({ backend: id, packageName, cause: error });
  }
  const descriptor = mod?.backend;
  if (!descriptor || typeof descriptor.createPublisher !== "function" || descriptor.id !== id) {
    throw new ConfigError({
      backend: id,
      code: "BACKEND_INVALID",
      message: `[${id}] ${packageName} does not export a backend descriptor for "${id}" — install a matching version of ${packageName}`,
    });
  }
  return descriptor;
}

async function prepare(env: Env, options: LoadOptions) {
  const config = readCoreConfig(env);
  const logger = options.logger ?? consoleLogger;
  const context: BackendContext = { source: config.source, logger, requested: config.requested };
  if (config.backend === "memory") return { config, context, descriptor: undefined, backendOptions: undefined };
  const descriptor = await loadBackend(config.backend, options);
  return { config, context, descriptor, backendOptions: descriptor.fromEnv(env) };
}

/**
 * The publisher EVENT_PUBLISHER selects, configured from `env`. When the backend is deliberately
 * unconfigured (redis without REDIS_URL) it returns a disabled publisher that logs why once.
 */
export async function loadPublisher(env: Env = process.env, options: LoadOptions = {}): Promise<Publisher> {
  const { config, context, descriptor, backendOptions } = await prepare(env, options);
  if (!descriptor)
    return createMemoryPublisher({
      source: context.source,
      logger: context.logger,
      ...(options.memoryBus ? { bus: options.memoryBus } : {}),
    });
  if (backendOptions === undefined) {
    return new DisabledPublisher(config.backend, descriptor.disabledReason ?? "the backend is not configured", {
      source: context.source,
      logger: context.logger,
    });
  }
  return descriptor.createPublisher(backendOptions, context);
}

/** The subscriber EVENT_PUBLISHER selects. An unconfigured backend is a ConfigError: there is nothing to read. */
export async function loadSubscriber(env: Env = process.env, options: LoadOptions = {}): Promise<Subscriber> {
  const { config, context, descriptor, backendOptions } = await prepare(env, options);
  if (!descriptor) return createMemorySubscriber({ logger: context.logger, ...(options.memoryBus ? { bus: options.memoryBus } : {}) });
  if (backendOptions === undefined) {
    throw new ConfigError({
      backend: config.backend,
      message: `[${config.backend}] cannot subscribe: ${descriptor.disabledReason ?? "the backend is not configured"}`,
    });
  }
  return descriptor.createSubscriber(backendOptions, context);
}
