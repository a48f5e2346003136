import { sql, type Kysely } from 'kysely';
import type { ArticleRow, Database } from '../db/types.js';

export interface Article {
  id: number;
  externalId: string | null;
  url: string;
  title: string;
  summary: string;
  body: string;
  tags: string[];
  section: string | null;
  language: string;
  publishedAt: Date;
  /** The first article of its story (its own id when it starts one), and how alike they are. */
  storyId: number;
  storySimilarity: number | null;
  /** An editor marked it as an update of its story (sent again, once, to who had the story). */
  isUpdate: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** What an ingest writes: the article's content, plus where it came from. */
export interface ArticleWrite extends Omit<Article, 'id' | 'createdAt' | 'updatedAt' | 'storyId' | 'storySimilarity' | 'isUpdate'> {
  contentHash: string;
  source: 'api' | 'feed' | 'demo';
  feedId?: number | null;
}

const COLUMNS = [
  'id', 'external_id', 'url', 'title', 'summary', 'body', 'tags', 'section', 'language',
  'published_at', 'story_id', 'story_similarity', 'is_update', 'created_at', 'updated_at',
] as const;

function toArticle(r: Pick<ArticleRow, (typeof COLUMNS)[number]>): Article {
  return {
    id: r.id,
    externalId: r.external_id,
    url: r.url,
    title: r.title,
    summary: r.summary,
    body: r.body,
    tags: r.tags,
    section: r.section,
    language: r.language,
    publishedAt: r.published_at,
    storyId: r.story_id ?? r.id,
    storySimilarity: r.story_similarity,
    isUpdate: r.is_update,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The columns an article's content fills, on insert and on update alike. */
function contentColumns(a: ArticleWrite, searchText: string) {
  return {
    external_id: a.externalId,
    url: a.url,
    title: a.title,
    summary: a.summary,
    body: a.body,
    tags: a.tags,
    section: a.section,
    language: a.language,
    published_at: a.publishedAt,
    content_hash: a.contentHash,
    // Our own stems (see src/matching/article.ts searchText), so forward search sees what the matcher sees.
    search_vector: sql<string>`to_tsvector('simple', ${searchText})`,
  };
}

export interface ArticleListFilter {
  topicId?: number;
  since?: Date;
  until?: Date;
  /** Keyset cursor: articles strictly older than (publishedAt, id). */
  before?: { publishedAt: Date; id: number };
  limit: number;
}

/** What a digest shows of an article. */
export interface DigestArticleRow {
  id: number;
  title: string;
  url: string;
  summary: string;
  publishedAt: Date;
  storyId: number;
  /** Where it came from: its feed's name, else its URL's host ("Also reported by …"). */
  source: string;
}

/** An article's source, for a query over `articles as a` left-joined to `feeds as f`. */
export const ARTICLE_SOURCE = sql<string>`coalesce(nullif(f.name, ''), substring(a.url from '^[a-zA-Z]+://([^/:?#]+)'), a.url)`;
/** The columns of a DigestArticleRow, over `articles as a` left-joined to `feeds as f`. */
export const DIGEST_ROW_COLUMNS = ['a.id', 'a.title', 'a.url', 'a.summary', 'a.published_at', 'a.story_id', ARTICLE_SOURCE.as('source')] as const;

export function toDigestRow(r: { id: number; title: string; url: string; summary: string; published_at: Date; story_id: number | null; source: string }): DigestArticleRow {
  return { id: r.id, title: r.title, url: r.url, summary: r.summary, publishedAt: r.published_at, storyId: r.story_id ?? r.id, source: r.source };
}

export class ArticlesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The stored article with this external id, else this URL: an article is stored once
   * whichever identifier a source gives.
   */
  async findExisting(externalId: string | null, url: string): Promise<(Article & { contentHash: string }) | undefined> {
    const q = this.db.selectFrom('articles').select([...COLUMNS, 'content_hash']);
    const row =
      (externalId !== null ? await q.where('external_id', '=', externalId).executeTakeFirst() : undefined) ??
      (await q.where('url', '=', url).executeTakeFirst());
    return row && { ...toArticle(row), contentHash: row.content_hash };
  }

  async findByIdentifier(identifier: string): Promise<Article | undefined> {
    const row = await this.db
      .selectFrom('articles')
      .select(COLUMNS)
      .where((eb) => eb.or([eb('external_id', '=', identifier), eb('url', '=', identifier)]))
      .orderBy(sql`external_id = ${identifier}`, 'desc')
      .executeTakeFirst();
    return row && toArticle(row);
  }

  /**
   * Inserts the article, or returns undefined when a concurrent writer stored the same URL or
   * external id first (the caller then treats it as existing).
   */
  async insert(a: ArticleWrite, searchText: string): Promise<Article | undefined> {
    const row = await this.db
      .insertInto('articles')
      .values({ ...contentColumns(a, searchText), source: a.source, feed_id: a.feedId ?? null })
      .onConflict((oc) => oc.doNothing())
      .returning(COLUMNS)
      .executeTakeFirst();
    return row && toArticle(row);
  }

  async update(id: number, a: ArticleWrite, searchText: string): Promise<Article> {
    const row = await this.db
      .updateTable('articles')
      .set({ ...contentColumns(a, searchText), updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    return toArticle(row);
  }

  /**
   * Makes the stored matches of an article exactly `topicIds`. Existing matches keep their
   * matched_at (the scheduler's notion of "new" must not move when an article is re-ingested).
   */
  async replaceMatches(articleId: number, topicIds: readonly number[], matchedAt: Date): Promise<void> {
    let del = this.db.deleteFrom('matches').where('article_id', '=', articleId);
    if (topicIds.length > 0) del = del.where('topic_id', 'not in', topicIds);
    await del.execute();
    if (topicIds.length > 0) {
      await this.db
        .insertInto('matches')
        .values(topicIds.map((topic_id) => ({ article_id: articleId, topic_id, matched_at: matchedAt })))
        .onConflict((oc) => oc.columns(['article_id', 'topic_id']).doNothing())
        .execute();
    }
  }

  async matchedTopicSlugs(articleId: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('matches')
      .innerJoin('topics', 'topics.id', 'matches.topic_id')
      .select('topics.slug')
      .where('matches.article_id', '=', articleId)
      .orderBy('topics.slug')
      .execute();
    return rows.map((r) => r.slug);
  }

  /** Newest first, keyset-paginated; with a topic, only articles matched to it. */
  async list(f: ArticleListFilter): Promise<Article[]> {
    let q = this.db.selectFrom('articles').select(COLUMNS.map((c) => `articles.${c}` as const));
    if (f.topicId !== undefined) {
      q = q.innerJoin('matches', 'matches.article_id', 'articles.id').where('matches.topic_id', '=', f.topicId);
    }
    if (f.since) q = q.where('articles.published_at', '>=', f.since);
    if (f.until) q = q.where('articles.published_at', '<', f.until);
    if (f.before) {
      const { publishedAt, id } = f.before;
      q = q.where((eb) =>
        eb.or([eb('articles.published_at', '<', publishedAt), eb.and([eb('articles.published_at', '=', publishedAt), eb('articles.id', '<', id)])]),
      );
    }
    const rows = await q.orderBy('articles.published_at', 'desc').orderBy('articles.id', 'desc').limit(f.limit).execute();
    return rows.map(toArticle);
  }

  /**
   * Forward search: articles published since `since` whose search vector satisfies the
   * prefilter (a necessary condition of the query; null = no text condition). The caller
   * verifies each candidate exactly.
   */
  async searchCandidates(tsquery: string | null, since: Date, limit: number): Promise<Article[]> {
    let q = this.db.selectFrom('articles').select(COLUMNS).where('published_at', '>=', since);
    if (tsquery !== null) q = q.where(sql<boolean>`search_vector @@ to_tsquery('simple', ${tsquery})`);
    const rows = await q.orderBy('published_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toArticle);
  }

  /** The most recent articles' text: document frequencies for the matcher's anchor choice. */
  async recentForRarity(limit: number): Promise<Pick<Article, 'title' | 'summary' | 'body' | 'tags' | 'section' | 'language'>[]> {
    return this.db
      .selectFrom('articles')
      .select(['title', 'summary', 'body', 'tags', 'section', 'language'])
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('articles').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async digestRows(ids: readonly number[]): Promise<DigestArticleRow[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('articles as a').leftJoin('feeds as f', 'f.id', 'a.feed_id').select(DIGEST_ROW_COLUMNS).where('a.id', 'in', ids).execute();
    return rows.map(toDigestRow);
  }

  /** The newest articles: the content of a test digest. */
  async newestDigestRows(limit: number): Promise<DigestArticleRow[]> {
    const rows = await this.db.selectFrom('articles as a').leftJoin('feeds as f', 'f.id', 'a.feed_id').select(DIGEST_ROW_COLUMNS).orderBy('a.published_at', 'desc').limit(limit).execute();
    return rows.map(toDigestRow);
  }

  /** The matched topics of each article, for the article list: one query for the page. */
  async matchedTopics(articleIds: readonly number[]): Promise<Map<number, { slug: string; name: string }[]>> {
    const out = new Map<number, { slug: string; name: string }[]>();
    if (articleIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('matches as m')
      .innerJoin('topics as t', 't.id', 'm.topic_id')
      .select(['m.article_id', 't.slug', 't.name'])
      .where('m.article_id', 'in', articleIds)
      .orderBy('t.name')
      .execute();
    for (const r of rows) {
      const id = Number(r.article_id);
      out.set(id, [...(out.get(id) ?? []), { slug: r.slug, name: r.name }]);
    }
    return out;
  }
}
