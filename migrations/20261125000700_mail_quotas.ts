import { sql, type Kysely } from 'kysely';

// The daily limit on confirmation and preference-link mails per address, kept as the times of
// the recent mails in one row per address and kind. It was a count of deliveries, which two
// signup statements for one address running at once could both read from snapshots taken before
// the other committed, and so both send the last mail allowed (seen in CI: four mails where the
// limit is three). An upsert of this row reads its newest version under a lock instead.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE mail_quotas (
    subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('confirmation', 'manage-link')),
    sent_at timestamptz[] NOT NULL,
    PRIMARY KEY (subscriber_id, kind)
  )`.execute(db);
  // Mails already sent today still count.
  await sql`INSERT INTO mail_quotas (subscriber_id, kind, sent_at)
    SELECT subscriber_id, kind, array_agg(created_at ORDER BY created_at) FROM deliveries
    WHERE kind IN ('confirmation', 'manage-link') AND subscriber_id IS NOT NULL AND created_at >= now() - interval '24 hours'
    GROUP BY subscriber_id, kind`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE mail_quotas`.execute(db);
}
