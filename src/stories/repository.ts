import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import { ARTICLE_SOURCE } from '../repositories/articles.js';

// Stories: the story of each article (articles.story_id, story_similarity, is_update) and the
// signatures kept for the stories window (article_signatures).

/** Arbitrary, fixed: the key of the transaction lock that serialises story assignment. */
const STORY_LOCK_KEY = 7_301_002;

export interface SignatureRow {
  articleId: number;
  storyId: number;
  publishedAt: Date;
  shingles: number;
  mins: Uint8Array;
}

export interface StoryCopy {
  id: number;
  title: string;
  url: string;
  source: string;
  feedId: number | null;
  publishedAt: Date;
  createdAt: Date;
  similarity: number | null;
  isUpdate: boolean;
}


export class StoriesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Holds, until the transaction ends, the lock under which articles are compared and given a
   * story: two copies ingested at once by two processes would otherwise both start a story.
   */
  async lockAssignment(): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(${STORY_LOCK_KEY})`.execute(this.db);
  }

  /** Signatures stored after article `afterId` for articles published since `since`, in id order. */
  async signaturesAfter(afterId: number, since: Date, limit: number): Promise<SignatureRow[]> {
    const rows = await this.db
      .selectFrom('article_signatures as s')
      .innerJoin('articles as a', 'a.id', 's.article_id')
      .select(['s.article_id', 'a.story_id', 's.published_at', 's.shingles', 's.mins'])
      .where('s.article_id', '>', afterId)
      .where('s.published_at', '>=', since)
      .orderBy('s.article_id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ articleId: r.article_id, storyId: r.story_id ?? r.article_id, publishedAt: r.published_at, shingles: r.shingles, mins: r.mins }));
  }

  /** The newest articles with a signature since `since` (the threshold preview), oldest first. */
  async recentWithSignatures(since: Date, limit: number): Promise<(SignatureRow & { title: string; source: string })[]> {
    const rows = await this.db
      .selectFrom('article_signatures as s')
      .innerJoin('articles as a', 'a.id', 's.article_id')
      .leftJoin('feeds as f', 'f.id', 'a.feed_id')
      .select(['s.article_id', 'a.story_id', 's.published_at', 's.shingles', 's.mins', 'a.title', ARTICLE_SOURCE.as('source')])
      .where('s.published_at', '>=', since)
      .orderBy('s.article_id', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse().map((r) => ({ articleId: r.article_id, storyId: r.story_id ?? r.article_id, publishedAt: r.published_at, shingles: r.shingles, mins: r.mins, title: r.title, source: r.source }));
  }

  /** The newest stored article id (what a fresh index has caught up to when it is empty). */
  async lastSignatureId(): Promise<number> {
    const r = await this.db.selectFrom('article_signatures').select((eb) => eb.fn.max('article_id').as('id')).executeTakeFirst();
    return Number(r?.id ?? 0);
  }

  /**
   * Records an article's story and, when it has one, its signature: one statement (a round trip
   * per ingest less, under the assignment lock that every ingest waits for).
   */
  async recordStory(s: { articleId: number; storyId: number; similarity: number | null; isUpdate: boolean; signature?: { publishedAt: Date; shingles: number; mins: Buffer } }): Promise<void> {
    const story = sql`UPDATE articles SET story_id = ${s.storyId}, story_similarity = ${s.similarity}, is_update = ${s.isUpdate} WHERE id = ${s.articleId}`;
    if (!s.signature) {
      await story.execute(this.db);
      return;
    }
    const { publishedAt, shingles, mins } = s.signature;
    await sql`WITH sig AS (
        INSERT INTO article_signatures (article_id, published_at, shingles, mins) VALUES (${s.articleId}, ${publishedAt}, ${shingles}, ${mins})
        ON CONFLICT (article_id) DO NOTHING
      )
      ${story}`.execute(this.db);
  }

  /** The articles of one story, first first, with where each came from. */
  async copies(storyId: number): Promise<StoryCopy[]> {
    const rows = await this.db
      .selectFrom('articles as a')
      .leftJoin('feeds as f', 'f.id', 'a.feed_id')
      .select(['a.id', 'a.title', 'a.url', 'a.feed_id', 'a.published_at', 'a.created_at', 'a.story_similarity', 'a.is_update', ARTICLE_SOURCE.as('source')])
      .where('a.story_id', '=', storyId)
      .orderBy('a.id')
      .execute();
    return rows.map((r) => ({ id: r.id, title: r.title, url: r.url, source: r.source, feedId: r.feed_id, publishedAt: r.published_at, createdAt: r.created_at, similarity: r.story_similarity, isUpdate: r.is_update }));
  }

  /** Stories with more than one article, newest first: id, first title, copies. */
  async recentStories(since: Date, limit: number): Promise<{ storyId: number; title: string; copies: number; lastAt: Date }[]> {
    const rows = await this.db
      .selectFrom('articles as a')
      .innerJoin('articles as first', 'first.id', 'a.story_id')
      .select(['a.story_id', 'first.title', (eb) => eb.fn.countAll<number>().as('copies'), (eb) => eb.fn.max('a.created_at').as('last_at')])
      .where('a.created_at', '>=', since)
      .groupBy(['a.story_id', 'first.title'])
      .having((eb) => eb.fn.countAll(), '>', 1)
      .orderBy('last_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ storyId: Number(r.story_id), title: r.title, copies: Number(r.copies), lastAt: r.last_at as Date }));
  }

  /** Per feed (or API) and day of ingest: articles, and how many joined an earlier story. */
  async duplicateShare(since: Date): Promise<{ day: string; source: string; articles: number; copies: number }[]> {
    const { rows } = await sql<{ day: string; source: string; articles: number; copies: number }>`
      SELECT to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
             coalesce(nullif(f.name, ''), f.url, 'API') AS source,
             count(*)::int AS articles,
             count(*) FILTER (WHERE a.story_id <> a.id)::int AS copies
      FROM articles a LEFT JOIN feeds f ON f.id = a.feed_id
      WHERE a.created_at >= ${since}
      GROUP BY 1, 2 ORDER BY 1 DESC, 2`.execute(this.db);
    return rows;
  }
}
