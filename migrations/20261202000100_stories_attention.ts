import { sql, type Kysely } from 'kysely';

// Stories and attention controls.
// - A story is the articles that report one event: every article has a story_id, the id of the
//   story's first article (its own id when it starts one), and the similarity to the article it
//   joined. Its near-duplicate signature (64 MinHash minimums) is kept for the stories window.
// - sent_stories is to stories what sent_articles is to articles: its primary key (subscriber,
//   story, edition) is what guarantees a story reaches a reader once, plus once more for an
//   update an editor marked as such (edition 1).
// - A subscriber's quiet hours and daily cap of instant alerts (null: the publisher's default),
//   and since when instant alerts over the cap wait for the next daily digest.
// - settings holds what an admin changes at run time (the story threshold).

const up_statements = [
  `ALTER TABLE articles ADD COLUMN story_id bigint`,
  `ALTER TABLE articles ADD COLUMN story_similarity real`,
  `ALTER TABLE articles ADD COLUMN is_update boolean NOT NULL DEFAULT false`,
  `UPDATE articles SET story_id = id`,
  `CREATE INDEX articles_story_idx ON articles (story_id)`,
  `CREATE TABLE article_signatures (
    article_id bigint PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    published_at timestamptz NOT NULL,
    shingles integer NOT NULL CHECK (shingles > 0),
    mins bytea NOT NULL
  )`,
  `CREATE INDEX article_signatures_published_idx ON article_signatures (published_at)`,
  `CREATE TABLE sent_stories (
    subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    story_id bigint NOT NULL,
    edition smallint NOT NULL CHECK (edition IN (0, 1)),
    delivery_id bigint REFERENCES deliveries (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscriber_id, story_id, edition)
  )`,
  `CREATE INDEX sent_stories_delivery_idx ON sent_stories (delivery_id)`,
  `ALTER TABLE subscribers ADD COLUMN quiet_start smallint CHECK (quiet_start BETWEEN 0 AND 23)`,
  `ALTER TABLE subscribers ADD COLUMN quiet_end smallint CHECK (quiet_end BETWEEN 0 AND 23)`,
  `ALTER TABLE subscribers ADD COLUMN instant_daily_cap smallint CHECK (instant_daily_cap BETWEEN 0 AND 1000)`,
  `ALTER TABLE subscribers ADD COLUMN instant_overflow_since timestamptz`,
  `CREATE TABLE settings (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
];

const down_statements = [
  'DROP TABLE settings',
  'ALTER TABLE subscribers DROP COLUMN instant_overflow_since',
  'ALTER TABLE subscribers DROP COLUMN instant_daily_cap',
  'ALTER TABLE subscribers DROP COLUMN quiet_end',
  'ALTER TABLE subscribers DROP COLUMN quiet_start',
  'DROP TABLE sent_stories',
  'DROP TABLE article_signatures',
  'DROP INDEX articles_story_idx',
  'ALTER TABLE articles DROP COLUMN is_update',
  'ALTER TABLE articles DROP COLUMN story_similarity',
  'ALTER TABLE articles DROP COLUMN story_id',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of up_statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of down_statements) await sql.raw(statement).execute(db);
}
