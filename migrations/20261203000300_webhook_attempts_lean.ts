import { sql, type Kysely } from 'kysely';

// Recording an attempt no longer checks or indexes its message. The foreign key from
// webhook_attempts to webhook_messages ran a trigger per attempt that locked the message row
// (FOR KEY SHARE) just before the same statement updated it to delivered, and its index served
// only that key's cascade. Attempts still go with their endpoint (endpoint_id keeps its key,
// ON DELETE CASCADE), which is the only way messages are deleted, and the record inserts an
// attempt only for a message it finds. Measured with `npm run bench:webhooks`.

const up_statements = [
  `ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_message_id_fkey`,
  `DROP INDEX webhook_attempts_message_idx`,
];

const down_statements = [
  // Attempts whose message went some other way than with its endpoint (none should) go first.
  `DELETE FROM webhook_attempts a WHERE NOT EXISTS (SELECT 1 FROM webhook_messages m WHERE m.id = a.message_id)`,
  `ALTER TABLE webhook_attempts ADD CONSTRAINT webhook_attempts_message_id_fkey FOREIGN KEY (message_id) REFERENCES webhook_messages (id) ON DELETE CASCADE`,
  `CREATE INDEX webhook_attempts_message_idx ON webhook_attempts (message_id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of up_statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of down_statements) await sql.raw(statement).execute(db);
}
