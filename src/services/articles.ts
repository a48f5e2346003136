import { createHash } from 'node:crypto';
import { prepareArticle, searchText } from '../matching/index.js';
import type { Repositories } from '../repositories/index.js';
import type { Article, ArticleListFilter } from '../repositories/articles.js';
import type { Clock } from '../clock.js';
import { notFound } from '../errors.js';
import type { MatcherService } from './matcher.js';
import type { Metrics } from '../metrics.js';
import type { StoryOfArticle, StoryService } from '../stories/service.js';
import { event } from '../webhooks/index.js';

export interface ArticleInput {
  externalId?: string | null;
  url: string;
  title: string;
  summary?: string | null;
  body?: string | null;
  tags?: string[] | null;
  section?: string | null;
  language?: string | null;
  publishedAt?: Date | null;
  /** An editor's update of its story (sent again, once); `updateOf` names the earlier article. */
  update?: boolean;
  updateOf?: string | null;
}

export interface IngestResult {
  article: Article;
  /** 'created' (201), 'updated' (200, re-matched) or 'unchanged' (200). */
  outcome: 'created' | 'updated' | 'unchanged';
  matchedTopics: string[];
  /** The story the article belongs to (see src/stories). */
  story: StoryOfArticle;
}

const storyOf = (a: Article): StoryOfArticle => ({ id: a.storyId, firstArticleId: a.storyId, similarity: a.storySimilarity });

export class ArticleService {
  constructor(
    private readonly repos: Repositories,
    private readonly matcher: MatcherService,
    private readonly clock: Clock,
    private readonly metrics?: Metrics,
    /** Without it (STORIES_ENABLED=false) every article is a story of its own. */
    private readonly stories?: StoryService,
  ) {}

  private match(prepared: ReturnType<typeof prepareArticle>): number[] {
    const started = performance.now();
    const ids = this.matcher.match(prepared);
    this.metrics?.matchDuration.observe((performance.now() - started) / 1000);
    return ids;
  }

  /**
   * Stores an article once (by external id, else URL) and records which active topics it
   * matches, in one transaction. Re-sending the same article changes nothing; a changed one is
   * updated and re-matched.
   */
  async ingest(input: ArticleInput, source: 'api' | 'feed' | 'demo' = 'api', feedId: number | null = null): Promise<IngestResult> {
    const now = this.clock.now();
    const write = {
      externalId: input.externalId ?? null,
      url: input.url,
      title: input.title,
      summary: input.summary ?? '',
      body: input.body ?? '',
      tags: [...new Set((input.tags ?? []).map((t) => t.trim()).filter(Boolean))],
      section: input.section?.trim() || null,
      language: (input.language ?? 'en').toLowerCase(),
      publishedAt: input.publishedAt ?? now,
      source,
      feedId,
    };
    const contentHash = createHash('sha256')
      .update(JSON.stringify([write.url, write.title, write.summary, write.body, write.tags, write.section, write.language, write.publishedAt.toISOString()]))
      .digest('hex');
    const prepared = prepareArticle(write);
    const text = searchText(prepared);

    // Joins this process's story index only once the article is committed (see StoryService).
    let joinStory: (() => void) | undefined;
    const result = await this.repos.transaction(async (r) => {
      if (this.stories) await this.stories.lock(r);
      let existing = await r.articles.findExisting(write.externalId, write.url);
      if (!existing) {
        const created = await r.articles.insert({ ...write, contentHash }, text);
        if (created) {
          const topicIds = this.match(prepared);
          await r.articles.replaceMatches(created.id, topicIds, now);
          let story = storyOf(created);
          if (this.stories) {
            const assigned = await this.stories.assign(r, created, { update: input.update, updateOf: input.updateOf });
            story = assigned.story;
            joinStory = assigned.commit;
          }
          const matchedTopics = await r.articles.matchedTopicSlugs(created.id);
          if (matchedTopics.length > 0) {
            const data = { articleId: created.id, url: created.url, title: created.title, publishedAt: created.publishedAt.toISOString(), topics: matchedTopics };
            await r.webhooks.emit([event('article.matched', `article:${created.id}`, data)], now);
          }
          return { article: { ...created, storyId: story.id, storySimilarity: story.similarity, isUpdate: Boolean(this.stories && (input.update || input.updateOf)) }, outcome: 'created' as const, matchedTopics, story };
        }
        // Lost a race with a concurrent ingest of the same article: it exists now.
        existing = await r.articles.findExisting(write.externalId, write.url);
        if (!existing) throw new Error('article vanished after a conflicting insert');
      }
      if (existing.contentHash === contentHash) {
        return { article: existing, outcome: 'unchanged' as const, matchedTopics: await r.articles.matchedTopicSlugs(existing.id), story: storyOf(existing) };
      }
      // A changed article keeps its story: what readers were sent stays the same story.
      const updated = await r.articles.update(existing.id, { ...write, contentHash }, text);
      await r.articles.replaceMatches(updated.id, this.match(prepared), now);
      return { article: updated, outcome: 'updated' as const, matchedTopics: await r.articles.matchedTopicSlugs(updated.id), story: storyOf(updated) };
    });
    joinStory?.();
    return result;
  }

  /** Newest first; with `topic` (a slug), only its matches: an unknown slug is a 404. */
  async list(filter: Omit<ArticleListFilter, 'topicId'> & { topic?: string }): Promise<Article[]> {
    const { topic: slug, ...rest } = filter;
    let topicId: number | undefined;
    if (slug !== undefined) {
      const topic = await this.repos.topics.findBySlug(slug);
      if (!topic) throw notFound(`Topic "${slug}"`);
      topicId = topic.id;
    }
    return this.repos.articles.list({ ...rest, topicId });
  }

  count(): Promise<number> {
    return this.repos.articles.count();
  }

  /** The topics each of these articles matched (the console's article list). */
  matchedTopics(articleIds: readonly number[]): Promise<Map<number, { slug: string; name: string }[]>> {
    return this.repos.articles.matchedTopics(articleIds);
  }
}
