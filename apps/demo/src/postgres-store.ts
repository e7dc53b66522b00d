// The store on PostgreSQL (DATABASE_URL): the same tables as SQLite; each write is BEGIN → row →
// outbox entry (the outbox's own enqueue, with this client) → COMMIT on one pooled client, so both
// commit or neither does.

import type { PostgresOutbox } from "@kaireon/events-outbox";
import type pg from "pg";
import type { BehaviourEventRow, DecisionRow, DemoStore, InteractionRow, StoreCounts } from "./store.js";
import { interactionFromRow } from "./store-rows.js";

const schema = `
CREATE TABLE IF NOT EXISTS interaction_history (
  interaction_id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  customer_id text NOT NULL,
  offer_id text NOT NULL,
  creative_id text,
  channel_id text NOT NULL,
  interaction_type text NOT NULL,
  outcome_type_key text NOT NULL,
  campaign_id text,
  recommendation_id text,
  occurred_at timestamptz NOT NULL,
  event_id uuid
);
CREATE INDEX IF NOT EXISTS interaction_history_customer ON interaction_history (tenant_id, customer_id);
CREATE TABLE IF NOT EXISTS decisions (
  recommendation_id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  customer_id text NOT NULL,
  decision_flow_key text NOT NULL,
  offers_returned integer NOT NULL,
  top_offer_id text,
  top_propensity double precision,
  offers_json jsonb NOT NULL,
  decided_at timestamptz NOT NULL,
  event_id uuid
);
CREATE TABLE IF NOT EXISTS customer_events (
  event_id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  customer_id text NOT NULL,
  event_type text NOT NULL,
  properties_json jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL
);
`;

export interface PostgresStoreOptions {
  pool: pg.Pool;
  /** Shown in logs: the URL without its password. */
  location: string;
  /** The outbox on the same pool; each event is enqueued with the row's client, in its transaction. */
  outbox: PostgresOutbox;
}

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    client.release();
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
      client.release();
    } catch (rollbackError) {
      client.release(rollbackError as Error);
    }
    throw error;
  }
}

export async function createPostgresStore(options: PostgresStoreOptions): Promise<DemoStore> {
  const { pool, outbox } = options;
  // Several demo processes may start at once: serialize the DDL.
  await inTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(7077101)");
    await client.query(schema);
  });
  let closed = false;
  return {
    kind: "postgres",
    location: options.location,
    recordInteraction: (input, event) =>
      inTransaction(pool, async (client) => {
        const row: InteractionRow = { ...input, eventId: event?.id ?? null };
        await client.query(
          `INSERT INTO interaction_history (interaction_id, tenant_id, customer_id, offer_id, creative_id, channel_id, interaction_type,
             outcome_type_key, campaign_id, recommendation_id, occurred_at, event_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [
            row.interactionId,
            row.tenantId,
            row.customerId,
            row.offerId,
            row.creativeId,
            row.channelId,
            row.interactionType,
            row.outcomeTypeKey,
            row.campaignId,
            row.recommendationId,
            row.timestamp,
            row.eventId,
          ],
        );
        if (event) await outbox.enqueue(client, event);
        return row;
      }),
    recordDecision: (input, event) =>
      inTransaction(pool, async (client) => {
        const row: DecisionRow = { ...input, eventId: event?.id ?? null };
        await client.query(
          `INSERT INTO decisions (recommendation_id, tenant_id, customer_id, decision_flow_key, offers_returned, top_offer_id,
             top_propensity, offers_json, decided_at, event_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            row.recommendationId,
            row.tenantId,
            row.customerId,
            row.decisionFlowKey,
            row.offersReturned,
            row.topOfferId,
            row.topPropensity,
            JSON.stringify(row.offers),
            row.timestamp,
            row.eventId,
          ],
        );
        if (event) await outbox.enqueue(client, event);
        return row;
      }),
    async recordBehaviourEvent(input) {
      const row: BehaviourEventRow = { ...input };
      await pool.query(
        `INSERT INTO customer_events (event_id, tenant_id, customer_id, event_type, properties_json, occurred_at, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [row.eventId, row.tenantId, row.customerId, row.eventType, JSON.stringify(row.properties), row.occurredAt, row.receivedAt],
      );
      return row;
    },
    async getInteraction(interactionId) {
      const { rows } = await pool.query("SELECT * FROM interaction_history WHERE interaction_id = $1", [interactionId]);
      return rows[0] ? interactionFromRow(rows[0]) : undefined;
    },
    async counts(): Promise<StoreCounts> {
      const { rows } = await pool.query(
        `SELECT (SELECT count(*) FROM interaction_history)::int AS interactions, (SELECT count(*) FROM decisions)::int AS decisions,
                (SELECT count(*) FROM customer_events)::int AS behaviour_events`,
      );
      const r = rows[0] as { interactions: number; decisions: number; behaviour_events: number };
      const { backlog, deadRows } = await outbox.stats();
      return { interactions: r.interactions, decisions: r.decisions, behaviourEvents: r.behaviour_events, outbox: backlog + deadRows };
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
