import { sql } from 'kysely';

// The partition keys of the history tables (migrations/20261203000200), as the code writes them.
// The migration computes the same for existing rows.

/** The month (UTC) in which the article under `alias` was first seen. */
const monthFirstSeen = (alias: 'a' | 'lead') => sql<string>`date_trunc('month', ${sql.ref(`${alias}.created_at`)} AT TIME ZONE 'UTC')::date`;

/** The month article `a` was first seen: the partition of its sent_articles claims (and, for a story's first article, of the story's). */
export const ARTICLE_MONTH = monthFirstSeen('a');

/**
 * The month of the story of article `a` when its story's first article is joined as `lead` (left
 * join on `lead.id = a.story_id`): the partition of the story's sent_stories claims, as the
 * scheduler writes them (its first article's month; a fixed month if that article is gone).
 */
export const STORY_MONTH_OF_A = sql<string>`CASE WHEN a.story_id IS NULL THEN ${monthFirstSeen('a')}
  ELSE coalesce(${monthFirstSeen('lead')}, DATE '1970-01-01') END`;
