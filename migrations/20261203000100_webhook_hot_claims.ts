import { sql, type Kysely } from 'kysely';

// The outbox's partial indexes keyed on `delivered_at IS NULL` instead of `status <> 'delivered'`
// (the same rows: only the delivered record sets delivered_at, and a replay is a new message).
// A column in an index's predicate makes every update of it a non-HOT update, so each claim
// (status pending → sending) wrote four index entries per message; now the claim touches no
// indexed column and, with room left on the page, is a heap-only update. Measured with
// `npm run bench:webhooks`.

const up_statements = [
  `ALTER TABLE webhook_messages SET (fillfactor = 80)`,
  `DROP INDEX webhook_messages_due_idx`,
  `DROP INDEX webhook_messages_order_idx`,
  `CREATE INDEX webhook_messages_due_idx ON webhook_messages (next_attempt_at, id) WHERE delivered_at IS NULL`,
  `CREATE INDEX webhook_messages_order_idx ON webhook_messages (endpoint_id, subscriber_key, id) WHERE delivered_at IS NULL`,
];

const down_statements = [
  `ALTER TABLE webhook_messages RESET (fillfactor)`,
  `DROP INDEX webhook_messages_due_idx`,
  `DROP INDEX webhook_messages_order_idx`,
  `CREATE INDEX webhook_messages_due_idx ON webhook_messages (next_attempt_at, id) WHERE status <> 'delivered'`,
  `CREATE INDEX webhook_messages_order_idx ON webhook_messages (endpoint_id, subscriber_key, id) WHERE status <> 'delivered'`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of up_statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of down_statements) await sql.raw(statement).execute(db);
}
