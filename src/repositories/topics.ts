import { sql, type Kysely } from 'kysely';
import type { Database, TopicRow, TopicStatus } from '../db/types.js';

export interface Topic {
  id: number;
  slug: string;
  name: string;
  description: string;
  query: string;
  normalizedQuery: string;
  status: TopicStatus;
  promptPriority: number;
  promptHidden: boolean;
  /** The name per language where it differs from `name` ({"ar": "اليابان"}). */
  names: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

/** A topic's name in a language: its own name there, else its default name. */
export const topicName = (t: Pick<Topic, 'name' | 'names'>, lang: string): string => t.names[lang] ?? t.name;

const COLUMNS = [
  'id', 'slug', 'name', 'description', 'query', 'normalized_query', 'status',
  'prompt_priority', 'prompt_hidden', 'names', 'created_at', 'updated_at',
] as const;

function toTopic(r: Pick<TopicRow, (typeof COLUMNS)[number]>): Topic {
  return {
    id: r.id,
    slug: r.slug,
    name: r.name,
    description: r.description,
    query: r.query,
    normalizedQuery: r.normalized_query,
    status: r.status,
    promptPriority: r.prompt_priority,
    promptHidden: r.prompt_hidden,
    names: r.names ?? {},
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export interface TopicWrite {
  slug: string;
  name: string;
  description?: string;
  query: string;
  normalizedQuery: string;
  status?: TopicStatus;
  promptPriority?: number;
  promptHidden?: boolean;
  names?: Partial<Record<string, string>>;
}

export class TopicsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(filter: { status?: TopicStatus } = {}): Promise<Topic[]> {
    let q = this.db.selectFrom('topics').select(COLUMNS).orderBy('name').orderBy('id');
    if (filter.status) q = q.where('status', '=', filter.status);
    return (await q.execute()).map(toTopic);
  }

  async findBySlug(slug: string): Promise<Topic | undefined> {
    const row = await this.db.selectFrom('topics').select(COLUMNS).where('slug', '=', slug).executeTakeFirst();
    return row && toTopic(row);
  }

  async findBySlugs(slugs: readonly string[]): Promise<Topic[]> {
    if (slugs.length === 0) return [];
    return (await this.db.selectFrom('topics').select(COLUMNS).where('slug', 'in', slugs).execute()).map(toTopic);
  }

  async findByIds(ids: readonly number[]): Promise<Topic[]> {
    if (ids.length === 0) return [];
    return (await this.db.selectFrom('topics').select(COLUMNS).where('id', 'in', ids).orderBy('name').execute()).map(toTopic);
  }

  /** Inserts a topic; returns undefined when the slug is taken (unique constraint). */
  async insert(t: TopicWrite): Promise<Topic | undefined> {
    const row = await this.db
      .insertInto('topics')
      .values({
        slug: t.slug,
        name: t.name,
        description: t.description ?? '',
        query: t.query,
        normalized_query: t.normalizedQuery,
        status: t.status ?? 'active',
        prompt_priority: t.promptPriority ?? 0,
        prompt_hidden: t.promptHidden ?? false,
        names: JSON.stringify(t.names ?? {}),
      })
      .onConflict((oc) => oc.column('slug').doNothing())
      .returning(COLUMNS)
      .executeTakeFirst();
    return row && toTopic(row);
  }

  async update(slug: string, patch: Partial<Omit<TopicWrite, 'slug'>>): Promise<Topic | undefined> {
    const row = await this.db
      .updateTable('topics')
      .set({
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.description !== undefined && { description: patch.description }),
        ...(patch.query !== undefined && { query: patch.query }),
        ...(patch.normalizedQuery !== undefined && { normalized_query: patch.normalizedQuery }),
        ...(patch.status !== undefined && { status: patch.status }),
        ...(patch.promptPriority !== undefined && { prompt_priority: patch.promptPriority }),
        ...(patch.promptHidden !== undefined && { prompt_hidden: patch.promptHidden }),
        ...(patch.names !== undefined && { names: JSON.stringify(patch.names) }),
        updated_at: sql<Date>`now()`,
      })
      .where('slug', '=', slug)
      .returning(COLUMNS)
      .executeTakeFirst();
    return row && toTopic(row);
  }

  /** Active topics' ids and queries: what the in-memory index is built from. */
  async activeQueries(): Promise<{ id: number; query: string }[]> {
    return this.db.selectFrom('topics').select(['id', 'normalized_query as query']).where('status', '=', 'active').execute();
  }

  /** Bumped by a trigger on every change to topics, in any process. */
  async version(): Promise<number> {
    const row = await this.db.selectFrom('app_state').select('value').where('key', '=', 'topics_version').executeTakeFirst();
    return row?.value ?? 0;
  }

  /**
   * The active, prompt-visible topics an article matched, best first for a signup prompt:
   * pinned topics (prompt_priority >= 100) first, then the most specific (fewest matches in the
   * window), then higher priority, then name.
   */
  async promptTopicsForArticle(articleId: number, since: Date, limit: number): Promise<Topic[]> {
    const rows = await this.db
      .selectFrom('matches as m')
      .innerJoin('topics as t', 't.id', 'm.topic_id')
      .select(COLUMNS.map((c) => `t.${c}` as const))
      .select((eb) =>
        eb
          .selectFrom('matches as recent')
          .select(eb.fn.countAll<number>().as('n'))
          .whereRef('recent.topic_id', '=', 't.id')
          .where('recent.matched_at', '>=', since)
          .as('recent_count'),
      )
      .where('m.article_id', '=', articleId)
      .where('t.status', '=', 'active')
      .where('t.prompt_hidden', '=', false)
      .orderBy(sql`t.prompt_priority >= 100`, 'desc')
      .orderBy('recent_count', 'asc')
      .orderBy('t.prompt_priority', 'desc')
      .orderBy('t.name')
      .limit(limit)
      .execute();
    return rows.map(toTopic);
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('topics').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
