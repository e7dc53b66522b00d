// @kaireon/events-outbox: enqueue events in your own database transaction; a relay publishes them after
// commit. Importing this module loads no database driver: the stores take the app's own
// better-sqlite3 Database or pg Pool.

export { type OutboxEnv, outboxEnvSchema, readOutboxConfig } from "./outbox-options.js";
export {
  createOutboxRelay,
  type OutboxMetrics,
  type OutboxRelay,
  type OutboxRelayOptions,
  type OutboxRelayState,
  type OutboxRetention,
} from "./outbox-relay.js";
export { type StopOnSignalsOptions, stopOnSignals } from "./outbox-signals.js";
export type { Claim, ClaimedRow, EventOrEvents, OutboxStats, OutboxStatus, OutboxStore, RowOutcome } from "./outbox-store.js";
export {
  createPostgresOutbox,
  type PgClientLike,
  type PgPoolLike,
  type PgQueryableLike,
  type PgQueryResultLike,
  type PostgresOutbox,
  type PostgresOutboxOptions,
} from "./postgres-outbox.js";
export {
  createSqliteOutbox,
  type SqliteDatabaseLike,
  type SqliteOutbox,
  type SqliteOutboxOptions,
  type SqliteStatementLike,
} from "./sqlite-outbox.js";
