import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/types.js';

export interface DigestWorld {
  subscribers: number;
  topics: number;
  topicsPerSubscriber: number;
  articlesPerTopic: number;
  /** The clock the benchmark runs at: every subscriber's daily slot (08:00 UTC) has just passed. */
  now: Date;
}

/** A Monday, 09:30 UTC: after the 08:00 daily slot, with matches from 06:00. */
export const BENCH_NOW = new Date('2026-11-23T09:30:00Z');

/**
 * Seeds, set-based (generate_series, INSERT … SELECT), a world where every subscriber has a
 * daily digest due: `topics` topics, `articlesPerTopic` new matched articles each (matched at
 * 06:00, before the slot), `subscribers` active daily subscribers with `topicsPerSubscriber`
 * distinct topics each, confirmed days before. Returns the expected (subscriber, article) pairs.
 */
export async function seedDigestWorld(db: Kysely<Database>, w: DigestWorld): Promise<{ pairs: number; ms: number }> {
  const t0 = performance.now();
  const matchedAt = new Date(w.now.getTime() - 3.5 * 3_600_000);
  const confirmedAt = new Date(w.now.getTime() - 5 * 86_400_000);
  await sql`
    INSERT INTO topics (slug, name, query, normalized_query)
    SELECT 'topic-' || g, 'Topic ' || g, 'term' || g, 'term' || g FROM generate_series(1, ${w.topics}::int) g`.execute(db);
  const { rows } = await sql<{ min: number }>`SELECT min(id) AS min FROM topics WHERE slug LIKE 'topic-%'`.execute(db);
  const firstTopic = Number(rows[0]!.min);
  const articles = w.topics * w.articlesPerTopic;
  await sql`
    INSERT INTO articles (url, title, summary, published_at)
    SELECT 'https://news.example/story/' || g,
           'Story ' || g || ': ministers agree on a plan for the coming winter',
           'What was agreed, who objected, and what happens next in story ' || g || '.',
           ${new Date(matchedAt.getTime() - 60_000)}::timestamptz - g * interval '1 second'
    FROM generate_series(1, ${articles}::int) g`.execute(db);
  // article n belongs to topic (n % topics); ids are consecutive in a fresh database
  await sql`
    INSERT INTO matches (article_id, topic_id, matched_at)
    SELECT a.id, ${firstTopic}::int + ((a.id - 1) % ${w.topics}::int), ${matchedAt}
    FROM articles a WHERE a.url LIKE 'https://news.example/story/%'`.execute(db);
  await sql`
    INSERT INTO subscribers (email, email_normalized, time_zone, digest_hour, created_at)
    SELECT 'reader' || g || '@example.com', 'reader' || g || '@example.com', 'UTC', 8, ${confirmedAt}
    FROM generate_series(1, ${w.subscribers}::int) g`.execute(db);
  // topic k of subscriber s: evenly spread offsets, so the topics of one subscriber differ
  const step = Math.max(1, Math.floor(w.topics / w.topicsPerSubscriber));
  await sql`
    INSERT INTO subscriptions (subscriber_id, topic_id, status, frequency, requested_at, confirmed_at)
    SELECT s.id, ${firstTopic}::int + ((s.id + k * ${step}::int) % ${w.topics}::int), 'active', 'daily', ${confirmedAt}, ${confirmedAt}
    FROM subscribers s CROSS JOIN generate_series(0, ${w.topicsPerSubscriber - 1}::int) k`.execute(db);
  await sql`ANALYZE`.execute(db);
  return { pairs: w.subscribers * w.topicsPerSubscriber * w.articlesPerTopic, ms: performance.now() - t0 };
}

/** Samples the resident set size every `everyMs`; peak() is the largest seen (and now). */
export function rssSampler(everyMs = 50) {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, everyMs);
  timer.unref();
  return {
    peak: () => Math.max(peak, process.memoryUsage().rss),
    reset: () => {
      peak = process.memoryUsage().rss;
    },
    stop: () => clearInterval(timer),
  };
}

export const logger = (bench: string) => (msg: string) => process.stderr.write(`[bench:${bench}] ${msg}\n`);
