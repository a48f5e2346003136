import { sql } from 'kysely';

// The partition keys of the history tables (migrations/20261203000200), as the code writes them.
// The migration computes the same for existing rows.

/** The month article `a` was first seen: the partition of its sent_articles claims (and, for a story's first article, of the story's). */
export const ARTICLE_MONTH = sql<string>`date_trunc('month', a.created_at AT TIME ZONE 'UTC')::date`;
