import { sql, type Kysely } from 'kysely';

// Every signup and every digest inserts a delivery, so each index on deliveries costs on the
// hottest write path. Two earned nothing: (subscriber_id, created_at) is covered by the prefix
// of (subscriber_id, kind, created_at), and (status, updated_at) serves no query (status lists
// page by id; the console's per-day figures scan by time).

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX deliveries_subscriber_idx`.execute(db);
  await sql`DROP INDEX deliveries_status_time_idx`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX deliveries_status_time_idx ON deliveries (status, updated_at)`.execute(db);
  await sql`CREATE INDEX deliveries_subscriber_idx ON deliveries (subscriber_id, created_at)`.execute(db);
}
