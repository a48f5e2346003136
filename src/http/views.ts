import type { Topic } from '../repositories/topics.js';
import type { Article } from '../repositories/articles.js';
import type { Feed } from '../repositories/feeds.js';

// Rows are mapped to the public shapes here, before they leave for HTTP.

export const topicView = (t: Topic) => ({
  slug: t.slug,
  name: t.name,
  description: t.description,
  query: t.query,
  normalizedQuery: t.normalizedQuery,
  status: t.status,
  promptPriority: t.promptPriority,
  promptHidden: t.promptHidden,
  names: t.names,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
});

export const articleView = (a: Article) => ({
  id: a.id,
  externalId: a.externalId,
  url: a.url,
  title: a.title,
  summary: a.summary,
  tags: a.tags,
  section: a.section,
  language: a.language,
  publishedAt: a.publishedAt.toISOString(),
  storyId: a.storyId,
  isUpdate: a.isUpdate,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});

export const feedView = (f: Feed) => ({
  id: f.id,
  url: f.url,
  name: f.name,
  section: f.defaultSection,
  tags: f.defaultTags,
  nextPollAt: f.nextPollAt.toISOString(),
  lastPolledAt: f.lastPolledAt?.toISOString() ?? null,
  lastSuccessAt: f.lastSuccessAt?.toISOString() ?? null,
  lastError: f.lastError,
  lastErrorAt: f.lastErrorAt?.toISOString() ?? null,
  consecutiveFailures: f.consecutiveFailures,
  itemsSeen: f.itemsSeen,
  createdAt: f.createdAt.toISOString(),
});

/** Opaque keyset cursor for newest-first article lists. */
export function encodeCursor(a: Pick<Article, 'publishedAt' | 'id'>): string {
  return Buffer.from(`${a.publishedAt.toISOString()}|${a.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { publishedAt: Date; id: number } | undefined {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const publishedAt = new Date(iso ?? '');
  const n = Number(id);
  if (Number.isNaN(publishedAt.getTime()) || !Number.isInteger(n)) return undefined;
  return { publishedAt, id: n };
}
