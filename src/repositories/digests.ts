import { sql, type Kysely } from 'kysely';
import type { Database, Frequency } from '../db/types.js';
import { SUBSCRIBER_COLUMNS, toSubscriber, type Subscriber } from './subscribers.js';
import { DIGEST_ROW_COLUMNS, toDigestRow, type DigestArticleRow } from './articles.js';
import { ARTICLE_MONTH, STORY_MONTH_OF_A } from '../history/keys.js';

/** A PostgreSQL array literal of integers (ids from the database: nothing to escape). */
const ids = (xs: readonly number[]) => `{${xs.join(',')}}`;

/** A digest goes to a subscriber: their zone, hour, weekday and pause decide when. */
export type DigestRecipient = Subscriber;

export interface CandidateItem {
  subscriberId: number;
  articleId: number;
  topicId: number;
  matchedAt: Date;
  publishedAt: Date;
  confirmedAt: Date;
  storyId: number;
  /** 0: the story; 1: an update an editor marked (sent once more). */
  edition: number;
}

export interface QueuedDigest {
  subscriberId: number;
  toAddress: string;
  idempotencyKey: string;
  /** The slot's date (YYYY-MM-DD): the delivery's partition, the same for every try of this key. */
  periodStart: string;
  messageId: string;
  payload: unknown;
  /** The stories the digest carries, each with every copy of it that collapsed into its entry. */
  stories: { storyId: number; edition: number; articleIds: number[] }[];
}

/**
 * The digest aggregate: scheduler runs, the candidates a run reads, the digests it queues and the
 * articles each delivery claimed (sent_articles: the "never twice" key).
 */
export class DigestsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async createRun(trigger: 'cron' | 'api' | 'cli' | 'test', now: Date, status: 'running' | 'skipped' = 'running'): Promise<number> {
    const r = await this.db
      .insertInto('digest_runs')
      .values({ trigger, status, started_at: now, ...(status === 'skipped' && { finished_at: now }) })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }

  async finishRun(id: number, r: { status: 'finished' | 'failed'; now: Date; scanned: number; queued: number; error?: string }): Promise<void> {
    await this.db
      .updateTable('digest_runs')
      .set({ status: r.status, finished_at: r.now, subscribers_scanned: r.scanned, deliveries_queued: r.queued, error: r.error ?? null })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Subscribers with at least one active subscription of this frequency (for the daily pass
   * also those whose instant alerts over their cap wait for it), in id order after `afterId`
   * (keyset pagination: memory stays flat whatever the subscriber count).
   */
  async recipients(frequency: Frequency, afterId: number, limit: number): Promise<DigestRecipient[]> {
    const rows = await this.db
      .selectFrom('subscribers as sub')
      .select(SUBSCRIBER_COLUMNS.map((c) => `sub.${c}` as const))
      .where('sub.id', '>', afterId)
      .where((eb) => {
        const has = eb.exists(
          eb.selectFrom('subscriptions as s').select('s.id').whereRef('s.subscriber_id', '=', 'sub.id').where('s.status', '=', 'active').where('s.frequency', '=', frequency),
        );
        return frequency === 'daily' ? eb.or([has, eb('sub.instant_overflow_since', 'is not', null)]) : has;
      })
      .orderBy('sub.id')
      .limit(limit)
      .execute();
    return rows.map(toSubscriber);
  }

  /**
   * New matches for these subscribers' active subscriptions of one frequency: matched after
   * the subscription became active (a new topic never mails old articles), within the
   * look-back window, and neither the article nor (in that edition) its story ever claimed by
   * an earlier delivery to that subscriber.
   */
  async candidates(subscriberIds: readonly number[], frequency: Frequency, since: Date, until: Date, firstSeenAfter: Date): Promise<CandidateItem[]> {
    if (subscriberIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('subscriptions as s')
      .innerJoin('matches as m', (j) => j.onRef('m.topic_id', '=', 's.topic_id').onRef('m.matched_at', '>=', 's.confirmed_at'))
      .innerJoin('articles as a', 'a.id', 'm.article_id')
      .innerJoin('topics as t', 't.id', 's.topic_id')
      .leftJoin('articles as lead', 'lead.id', 'a.story_id')
      .select(['s.subscriber_id', 'm.article_id', 'm.topic_id', 'm.matched_at', 'a.published_at', 's.confirmed_at', 'a.story_id', 'a.is_update'])
      .where('s.subscriber_id', 'in', subscriberIds)
      .where('s.status', '=', 'active')
      .where('s.frequency', '=', frequency)
      .where('t.status', '=', 'active')
      .where('m.matched_at', '>=', since)
      .where('m.matched_at', '<=', until)
      // Never an article, or an article of a story, first seen before the claims' horizon: their
      // claims' partitions may be gone (src/history), and old news is not news.
      .where('a.created_at', '>=', firstSeenAfter)
      .where((eb) => eb.or([eb('lead.id', 'is', null), eb('lead.created_at', '>=', firstSeenAfter)]))
      // Each probe names its claim's partition (the key is a function of the article, see
      // src/history/keys.ts), so PostgreSQL prunes the others at run time: one index probe per
      // candidate instead of one per month kept. OFFSET 0 keeps each a probe: as an anti-join
      // the planner hashed or sorted every claim of every month per batch of subscribers
      // (150–250 ms a batch of 1,000 at 100k subscribers, the largest cost of a run), and a
      // hash or merge join cannot prune partitions by the outer row.
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('sent_articles as sa')
              .select('sa.article_id')
              .whereRef('sa.subscriber_id', '=', 's.subscriber_id')
              .whereRef('sa.article_id', '=', 'm.article_id')
              .where('sa.article_month', '=', ARTICLE_MONTH)
              .offset(0),
          ),
        ),
      )
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('sent_stories as ss')
              .select('ss.story_id')
              .whereRef('ss.subscriber_id', '=', 's.subscriber_id')
              .where('ss.story_id', '=', sql<number>`coalesce(a.story_id, a.id)`)
              .where('ss.edition', '=', sql<number>`(CASE WHEN a.is_update THEN 1 ELSE 0 END)`)
              .where('ss.story_month', '=', STORY_MONTH_OF_A)
              .offset(0),
          ),
        ),
      )
      .execute();
    return rows.map((r) => ({
      subscriberId: r.subscriber_id,
      articleId: r.article_id,
      topicId: r.topic_id,
      matchedAt: r.matched_at,
      publishedAt: r.published_at,
      confirmedAt: r.confirmed_at!,
      storyId: r.story_id ?? r.article_id,
      edition: r.is_update ? 1 : 0,
    }));
  }

  /**
   * Queues digests and claims their stories and articles, in one transaction. Guarantees: a
   * digest key is queued once (a concurrent or repeated run gets nothing back for it); a story
   * is claimed for a subscriber once per edition (sent_stories primary key) and an article once
   * (sent_articles primary key). A story another delivery claimed meanwhile is left out with all
   * its copies; the composer shows only what its delivery claimed. Returns the deliveries queued.
   */
  async queue(digests: readonly QueuedDigest[], runId: number | null, now: Date): Promise<number> {
    if (digests.length === 0) return 0;
    const inserted = await this.db
      .insertInto('deliveries')
      .values(
        digests.map((d) => ({
          kind: 'digest' as const,
          subscriber_id: d.subscriberId,
          to_address: d.toAddress,
          idempotency_key: d.idempotencyKey,
          payload: JSON.stringify(d.payload),
          message_id: d.messageId,
          run_id: runId,
          period_start: d.periodStart,
          created_at: now,
          updated_at: now,
          next_attempt_at: now,
        })),
      )
      .onConflict((oc) => oc.columns(['idempotency_key', 'period_start']).doNothing())
      .returning(['id', 'idempotency_key'])
      .execute();
    if (inserted.length === 0) return 0;
    const byKey = new Map(digests.map((d) => [d.idempotencyKey, d]));
    // Story claims and the article claims of the stories claimed, one statement per ~5,000
    // stories: the articles' insert joins what the stories' insert returned, so a story another
    // delivery holds leaves out its copies without a round trip or a row back to this process.
    // The arrays go as literals built here (ids only): the driver's escaping of each element
    // was a measurable part of the fan-out. A story claim's partition key is a function of the
    // story (its first article's month, a fixed month if that article is gone), so the same
    // claim always meets itself: once per edition.
    const stories: { s: number[]; st: number[]; e: number[]; d: number[] } = { s: [], st: [], e: [], d: [] };
    const articles: { s: number[]; st: number[]; e: number[]; ar: number[]; d: number[] } = { s: [], st: [], e: [], ar: [], d: [] };
    const claim = async () => {
      if (stories.s.length === 0) return;
      await sql`
        WITH st AS (
          INSERT INTO sent_stories (subscriber_id, story_id, edition, delivery_id, created_at, story_month)
          SELECT i.s, i.st, i.e, i.d, ${now}, coalesce(${ARTICLE_MONTH}, DATE '1970-01-01')
          FROM unnest(${ids(stories.s)}::bigint[], ${ids(stories.st)}::bigint[], ${ids(stories.e)}::smallint[], ${ids(stories.d)}::bigint[]) AS i(s, st, e, d)
          LEFT JOIN articles a ON a.id = i.st
          ON CONFLICT (subscriber_id, story_id, edition, story_month) DO NOTHING
          RETURNING subscriber_id, story_id, edition
        )
        INSERT INTO sent_articles (subscriber_id, article_id, delivery_id, created_at, article_month)
        SELECT j.s, j.ar, j.d, ${now}, ${ARTICLE_MONTH}
        FROM unnest(${ids(articles.s)}::bigint[], ${ids(articles.st)}::bigint[], ${ids(articles.e)}::smallint[], ${ids(articles.ar)}::bigint[], ${ids(articles.d)}::bigint[]) AS j(s, st, e, ar, d)
        JOIN st ON st.subscriber_id = j.s AND st.story_id = j.st AND st.edition = j.e
        JOIN articles a ON a.id = j.ar
        ON CONFLICT (subscriber_id, article_id, article_month) DO NOTHING`.execute(this.db);
      for (const list of [...Object.values(stories), ...Object.values(articles)]) list.length = 0;
    };
    for (const row of inserted) {
      const d = byKey.get(row.idempotency_key)!;
      for (const story of d.stories) {
        stories.s.push(d.subscriberId);
        stories.st.push(story.storyId);
        stories.e.push(story.edition);
        stories.d.push(row.id);
        for (const ar of story.articleIds) {
          articles.s.push(d.subscriberId);
          articles.st.push(story.storyId);
          articles.e.push(story.edition);
          articles.ar.push(ar);
          articles.d.push(row.id);
        }
      }
      if (stories.s.length >= 5000) await claim();
    }
    await claim();
    return inserted.length;
  }

  /** Erasure: the subscriber's article and story claims go (no foreign key does it: migrations/20261203000400). */
  async forgetSubscribers(subscriberIds: readonly number[]): Promise<void> {
    if (subscriberIds.length === 0) return;
    await this.db.deleteFrom('sent_articles').where('subscriber_id', 'in', subscriberIds).execute();
    await this.db.deleteFrom('sent_stories').where('subscriber_id', 'in', subscriberIds).execute();
  }

  /**
   * Refreshes the planner's statistics of the queue tables. A run that queues thousands of
   * digests changes them faster than autovacuum's analyze notices; with stale statistics the
   * sender's claim sorts the whole queue instead of walking the due index (~0.1 s a claim at
   * 100k queued). Skipped quietly where not permitted (ANALYZE needs the table owner).
   */
  async refreshQueueStatistics(): Promise<void> {
    try {
      await sql`ANALYZE deliveries, sent_articles`.execute(this.db);
    } catch {
      // not the owner: autovacuum will get there
    }
  }

  /** The articles claimed by one delivery: what its digest may show. */
  async deliveryArticles(deliveryId: number): Promise<DigestArticleRow[]> {
    return (await this.articlesForDeliveries([deliveryId])).get(deliveryId) ?? [];
  }

  /**
   * The articles claimed by each of these deliveries (the sender prefetches a whole claimed
   * batch instead of asking per message). Two queries: the claims, then each distinct article
   * once. A batch's digests share most of their articles (500 digests, ~3,000 claims, a few
   * hundred articles), and reading the article with every claim cost the database a join and
   * the source expression per claim and the worker a parse of the same text per claim. The
   * rows are shared between deliveries: read, never changed.
   */
  async articlesForDeliveries(deliveryIds: readonly number[]): Promise<Map<number, DigestArticleRow[]>> {
    const out = new Map<number, DigestArticleRow[]>();
    if (deliveryIds.length === 0) return out;
    const claims = await this.db.selectFrom('sent_articles').select(['delivery_id', 'article_id']).where('delivery_id', 'in', deliveryIds).execute();
    if (claims.length === 0) return out;
    const ids = [...new Set(claims.map((c) => c.article_id))];
    const rows = await this.db.selectFrom('articles as a').leftJoin('feeds as f', 'f.id', 'a.feed_id').select(DIGEST_ROW_COLUMNS).where('a.id', 'in', ids).execute();
    const articles = new Map(rows.map((r) => [r.id, toDigestRow(r)]));
    for (const c of claims) {
      const row = articles.get(c.article_id);
      if (!row) continue; // deleted meanwhile: its claim goes with it
      const list = out.get(c.delivery_id!);
      if (list) list.push(row);
      else out.set(c.delivery_id!, [row]);
    }
    return out;
  }
}
