import { sql, type Kysely } from 'kysely';

// The fan-out's inserts without foreign-key triggers. Every claim row (six or so per digest, in
// sent_articles and sent_stories) and every delivery ran one trigger per key, each a query that
// locks the referenced row: about half of the time of the claim inserts in the scheduler's
// transaction (auto_explain at 100k subscribers). What the keys did is done by the code:
// erasure deletes the subscriber's claims and detaches their deliveries in its transaction
// (src/services/preferences.ts), the purge of unconfirmed subscribers deletes theirs; articles
// and digest runs are never deleted. Ids are never reused, so a claim left behind by a delete
// racing a run matches nobody, and retention drops it with its month. It also leaves the
// history tables free of keys across subscribers, as distributing them by subscriber needs
// (docs/scaling.md).

const up_statements = [
  `ALTER TABLE sent_articles DROP CONSTRAINT sent_articles_article_id_fkey`,
  `ALTER TABLE sent_articles DROP CONSTRAINT sent_articles_subscriber_id_fkey`,
  `ALTER TABLE sent_stories DROP CONSTRAINT sent_stories_subscriber_id_fkey`,
  `ALTER TABLE deliveries DROP CONSTRAINT deliveries_run_id_fkey`,
  `ALTER TABLE deliveries DROP CONSTRAINT deliveries_subscriber_id_fkey`,
];

const down_statements = [
  // Rows the keys would have removed or detached first, so that the keys validate.
  `DELETE FROM sent_articles t WHERE NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = t.subscriber_id) OR NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = t.article_id)`,
  `DELETE FROM sent_stories t WHERE NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = t.subscriber_id)`,
  `UPDATE deliveries t SET subscriber_id = NULL WHERE subscriber_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = t.subscriber_id)`,
  `UPDATE deliveries t SET run_id = NULL WHERE run_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM digest_runs r WHERE r.id = t.run_id)`,
  `ALTER TABLE sent_articles ADD CONSTRAINT sent_articles_article_id_fkey FOREIGN KEY (article_id) REFERENCES articles (id) ON DELETE CASCADE`,
  `ALTER TABLE sent_articles ADD CONSTRAINT sent_articles_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE CASCADE`,
  `ALTER TABLE sent_stories ADD CONSTRAINT sent_stories_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE CASCADE`,
  `ALTER TABLE deliveries ADD CONSTRAINT deliveries_run_id_fkey FOREIGN KEY (run_id) REFERENCES digest_runs (id) ON DELETE SET NULL`,
  `ALTER TABLE deliveries ADD CONSTRAINT deliveries_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE SET NULL`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of up_statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of down_statements) await sql.raw(statement).execute(db);
}
