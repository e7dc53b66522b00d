// Topic provisioning. Production clusters often forbid auto-creation (and its defaults are rarely what
// you want), so topics are created explicitly with their partitions, replication and retention.

import { consoleLogger, type Logger, type TopicName, topicNames } from "@kaireon/events-core/backend";
import { createKafkaClient, toEventsError } from "./kafka-client.js";
import type { KafkaOptions } from "./kafka-options.js";

export interface EnsureTopicsOptions {
  /** Which topics; default every topic of the registry. The options' topicPrefix is prepended. */
  topics?: readonly TopicName[];
  /** Partitions of each new topic; default 6. Per-key order holds within a partition. */
  partitions?: number;
  /** Replication factor; default the broker's default.replication.factor. Use 3 in production. */
  replicationFactor?: number;
  /** retention.ms: how far back a replay can go; default the broker's (usually 7 days). */
  retentionMs?: number;
  /** Extra topic configs, e.g. `{ "min.insync.replicas": "2" }`. */
  configs?: Record<string, string>;
  logger?: Logger;
}

/**
 * Creates the topics that do not exist yet and leaves existing ones alone (their settings are not
 * changed). Resolves with the names it created.
 */
export async function ensureTopics(options: KafkaOptions, settings: EnsureTopicsOptions = {}): Promise<string[]> {
  const logger = settings.logger ?? consoleLogger;
  const admin = createKafkaClient(options, logger).admin();
  const names = (settings.topics ?? topicNames).map((t) => options.topicPrefix + t);
  const configs: Record<string, string> = { ...settings.configs };
  if (settings.retentionMs !== undefined) configs["retention.ms"] = String(settings.retentionMs);
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = names.filter((n) => !existing.has(n));
    if (missing.length > 0) {
      await admin.createTopics(
        missing.map((topic) => ({
          topic,
          numPartitions: settings.partitions ?? 6,
          replicationFactor: settings.replicationFactor ?? -1,
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
        })),
      );
    }
    return missing;
  } catch (error) {
    throw toEventsError(error, options, `ensureTopics(${names.join(", ")}) failed`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
