import { DomainError, notFound } from '../errors.js';
import { evaluate, normalizeQuery, parseQuery, prepareArticle, QueryError, toTsQueryPrefilter, type QueryNode } from '../matching/index.js';
import type { Repositories } from '../repositories/index.js';
import type { Topic } from '../repositories/topics.js';
import type { Article } from '../repositories/articles.js';
import type { TopicStatus } from '../db/types.js';
import type { Clock } from '../clock.js';
import type { MatcherService } from './matcher.js';

export interface TopicInput {
  slug: string;
  name: string;
  description?: string;
  query: string;
  status?: TopicStatus;
  promptPriority?: number;
  promptHidden?: boolean;
  /** The name in other languages ({"ar": "اليابان"}); `name` is the default. */
  names?: Partial<Record<string, string>>;
}

export type TopicPatch = Partial<Omit<TopicInput, 'slug'>>;

export interface QueryTestResult {
  query: string;
  normalizedQuery: string;
  days: number;
  count: number;
  /** Candidates the database returned for exact verification. */
  scanned: number;
  /** True when more candidates existed than were verified. */
  truncated: boolean;
  matches: Article[];
}

const TEST_CANDIDATE_CAP = 5000;

export class TopicService {
  constructor(
    private readonly repos: Repositories,
    private readonly matcher: MatcherService,
    private readonly clock: Clock,
    private readonly opts: { maxQueryTerms: number; testDays: number },
  ) {}

  /** Parses a query, turning a parse error into a 400 that says what and where. */
  parse(query: string, path = 'query'): QueryNode {
    try {
      return parseQuery(query, { maxTerms: this.opts.maxQueryTerms });
    } catch (err) {
      if (err instanceof QueryError) {
        throw new DomainError(400, 'invalid_query', `The query is invalid: ${err.message}`, [{ path, message: err.message }], {
          reason: err.code,
          column: err.column,
        });
      }
      throw err;
    }
  }

  list(status?: TopicStatus): Promise<Topic[]> {
    return this.repos.topics.list({ status });
  }

  find(slug: string): Promise<Topic | undefined> {
    return this.repos.topics.findBySlug(slug);
  }

  /** A topic page: the topic and its newest articles (older than `before`, keyset). */
  async page(slug: string, opts: { before?: { publishedAt: Date; id: number }; limit: number }): Promise<{ topic: Topic; articles: Article[] } | undefined> {
    const topic = await this.find(slug);
    if (!topic) return undefined;
    return { topic, articles: await this.repos.articles.list({ topicId: topic.id, before: opts.before, limit: opts.limit }) };
  }

  async get(slug: string): Promise<Topic> {
    const topic = await this.repos.topics.findBySlug(slug);
    if (!topic) throw notFound(`Topic "${slug}"`);
    return topic;
  }

  async create(input: TopicInput, actor: string): Promise<Topic> {
    const normalizedQuery = normalizeQuery(this.parse(input.query));
    const topic = await this.repos.transaction(async (r) => {
      const created = await r.topics.insert({ ...input, normalizedQuery });
      if (!created) {
        throw new DomainError(409, 'slug_taken', `A topic with the slug "${input.slug}" already exists`, [
          { path: 'slug', message: 'already taken' },
        ]);
      }
      await r.audit.record({ actor, action: 'topic.create', target: `topic:${created.slug}`, details: { ...input } });
      return created;
    });
    await this.matcher.sync();
    return topic;
  }

  async update(slug: string, patch: TopicPatch, actor: string): Promise<Topic> {
    const normalizedQuery = patch.query !== undefined ? normalizeQuery(this.parse(patch.query)) : undefined;
    const topic = await this.repos.transaction(async (r) => {
      const updated = await r.topics.update(slug, { ...patch, normalizedQuery });
      if (!updated) throw notFound(`Topic "${slug}"`);
      await r.audit.record({ actor, action: 'topic.update', target: `topic:${slug}`, details: { ...patch } });
      return updated;
    });
    await this.matcher.sync();
    return topic;
  }

  /**
   * Archiving is how a topic is removed: it stops matching and cannot be signed up for, while
   * its subscribers, matches and consent history stay intact.
   */
  archive(slug: string, actor: string): Promise<Topic> {
    return this.update(slug, { status: 'archived' }, actor);
  }

  /**
   * Forward search for an admin tuning a topic: the database narrows the last `days` of
   * articles with a necessary text condition, then each candidate is checked exactly by the
   * same evaluator the matcher is proven against.
   */
  async test(query: string, opts: { days?: number; limit?: number } = {}): Promise<QueryTestResult> {
    const node = this.parse(query);
    const days = opts.days ?? this.opts.testDays;
    const since = new Date(this.clock.now().getTime() - days * 86_400_000);
    const candidates = await this.repos.articles.searchCandidates(toTsQueryPrefilter(node), since, TEST_CANDIDATE_CAP + 1);
    const truncated = candidates.length > TEST_CANDIDATE_CAP;
    const verified = candidates.slice(0, TEST_CANDIDATE_CAP).filter((a) => evaluate(node, prepareArticle(a)));
    return {
      query,
      normalizedQuery: normalizeQuery(node),
      days,
      count: verified.length,
      scanned: Math.min(candidates.length, TEST_CANDIDATE_CAP),
      truncated,
      matches: verified.slice(0, opts.limit ?? 50),
    };
  }
}
