import type { Repositories } from '../repositories/index.js';
import type { Article } from '../repositories/articles.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { fresh } from '../services/cache-age.js';
import { invalid } from '../errors.js';
import { decodeSignature, encodeMins, signatureOf, storyText, type Signature } from './signature.js';
import { StoryIndex, type StoryMatch } from './story-index.js';
import type { StoryCopy } from './repository.js';

export interface StoryOptions {
  /** How far apart in publication time two articles may be and still be one story. */
  windowMs: number;
  /** Containment from which an article joins a story, unless an admin set another. */
  threshold: number;
}

export interface StoryOfArticle {
  id: number;
  firstArticleId: number;
  /** To the article it joined; null for the first article of a story. */
  similarity: number | null;
}

export interface StoryMarks {
  /** An editor's update of a story: sent again, once, to readers who had the story. */
  update?: boolean;
  /** The earlier article (external id or URL) this one updates: joins its story whatever the text. */
  updateOf?: string | null;
}

const THRESHOLD_KEY = 'story_threshold';
const CATCH_UP_BATCH = 5000;
const PRUNE_EVERY_MS = 3600_000;

/**
 * Gives each new article its story: the story of the most similar recent article when the
 * similarity reaches the threshold, else a story of its own. The signatures of the window are
 * kept in memory (StoryIndex) and stored with the article; assignment runs under a transaction
 * lock, after reading what other processes stored since, so every process sees every earlier
 * copy and two copies ingested at once never both start a story.
 */
export class StoryService {
  private index = new StoryIndex();
  /** The newest article id whose signature this process has taken in (or looked past). */
  private caughtUpTo = -1;
  private prunedAt = 0;
  private thresholdCache: { at: number; value: number } | undefined;

  constructor(
    private readonly repos: Repositories,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: StoryOptions,
  ) {}

  get windowMs(): number {
    return this.opts.windowMs;
  }

  /**
   * The threshold in force. Inside an ingest pass its transaction's repositories: the pool's
   * other connections may all be waiting for the assignment lock this transaction holds (and
   * the embedded database has only the one).
   */
  async threshold(r: Repositories = this.repos): Promise<number> {
    const now = this.clock.now().getTime();
    if (this.thresholdCache && fresh(this.thresholdCache.at, now, 5000)) return this.thresholdCache.value;
    const stored = await r.settings.get(THRESHOLD_KEY);
    const value = typeof stored === 'number' ? stored : this.opts.threshold;
    this.thresholdCache = { at: now, value };
    return value;
  }

  async setThreshold(value: number, actor: string): Promise<void> {
    if (!(value > 0 && value <= 1)) throw invalid('The threshold must be above 0 and at most 1', [{ path: 'threshold', message: 'must be in (0, 1]' }]);
    await this.repos.transaction(async (r) => {
      await r.settings.set(THRESHOLD_KEY, value, this.clock.now());
      await r.audit.record({ actor, action: 'stories.threshold', details: { threshold: value } });
    });
    this.thresholdCache = undefined;
  }

  /**
   * The lock story assignment runs under: taken first in an ingest's transaction, before the
   * article row (and its id) is written, so ids reach the stored signatures in commit order and
   * catching up by id misses nothing.
   */
  lock(r: Repositories): Promise<void> {
    return r.stories.lockAssignment();
  }

  /**
   * Assigns the story of a just-written article inside the ingest's transaction (after lock()).
   * `commit()` must be called once the transaction has committed: only then does the article
   * join this process's index (a rolled-back one must not).
   */
  async assign(r: Repositories, article: Article, marks: StoryMarks): Promise<{ story: StoryOfArticle; commit: () => void }> {
    const signature = signatureOf(storyText(article));
    await this.catchUp(r);
    let match: StoryMatch | undefined;
    if (marks.updateOf) {
      const earlier = await r.articles.findByIdentifier(marks.updateOf);
      if (!earlier) throw invalid(`updateOf names no stored article: ${marks.updateOf}`, [{ path: 'updateOf', message: 'is not the external id or URL of a stored article' }]);
      match = { articleId: earlier.id, storyId: earlier.storyId, similarity: this.similarityTo(signature, earlier.id) ?? 1 };
    } else if (signature) {
      match = this.index.best(signature, await this.threshold(r), article.publishedAt, this.opts.windowMs);
    }
    const storyId = match?.storyId ?? article.id;
    const similarity = match ? Math.round(match.similarity * 1000) / 1000 : null;
    await r.stories.recordStory({
      articleId: article.id,
      storyId,
      similarity,
      isUpdate: Boolean(marks.update || marks.updateOf),
      signature: signature && { publishedAt: article.publishedAt, shingles: signature.shingles, mins: encodeMins(signature.mins) },
    });
    return {
      story: { id: storyId, firstArticleId: storyId, similarity },
      commit: () => {
        if (signature) this.index.add({ articleId: article.id, storyId, publishedAt: article.publishedAt, signature });
        if (article.id > this.caughtUpTo) this.caughtUpTo = article.id;
      },
    };
  }

  /** Similarity of a signature to a stored article in the index, if both are there. */
  private similarityTo(signature: Signature | undefined, articleId: number): number | undefined {
    if (!signature || !this.index.has(articleId)) return undefined;
    return this.index.candidates(signature, this.clock.now(), Number.POSITIVE_INFINITY).find((c) => c.articleId === articleId)?.similarity;
  }

  /** Takes in what other processes stored since (all of the window, the first time). */
  private async catchUp(r: Repositories): Promise<void> {
    const now = this.clock.now();
    // Lookups reach `window` either side of an article's date, and feeds deliver late: keep twice that.
    const since = new Date(now.getTime() - 2 * this.opts.windowMs);
    const first = this.caughtUpTo < 0;
    if (first) this.caughtUpTo = 0;
    let taken = 0;
    for (;;) {
      const rows = await r.stories.signaturesAfter(this.caughtUpTo, since, CATCH_UP_BATCH);
      for (const row of rows) {
        this.index.add({ articleId: row.articleId, storyId: row.storyId, publishedAt: row.publishedAt, signature: decodeSignature(row.mins, row.shingles) });
        this.caughtUpTo = row.articleId;
      }
      taken += rows.length;
      if (rows.length < CATCH_UP_BATCH) break;
    }
    if (first) this.logger.info({ signatures: taken }, 'story index loaded');
    if (now.getTime() - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = now.getTime();
      const dropped = this.index.prune(since);
      if (dropped > 0) this.logger.debug({ dropped, kept: this.index.count }, 'story index pruned');
    }
  }

  /**
   * What the recent articles would look like at another threshold: replayed in the order they
   * came, each joins the most similar earlier one at `threshold` or more. The stories with
   * copies, biggest first, and how many articles would join one (against how many do now).
   */
  async preview(threshold: number, days: number, limit = 500) {
    const rows = await this.repos.stories.recentWithSignatures(new Date(this.clock.now().getTime() - days * 86_400_000), limit);
    const index = new StoryIndex();
    const groups = new Map<number, { title: string; source: string; similarity: number | null }[]>();
    let joinedNow = 0;
    for (const row of rows) {
      const signature = decodeSignature(row.mins, row.shingles);
      const match = index.best(signature, threshold, row.publishedAt, this.opts.windowMs);
      const storyId = match?.storyId ?? row.articleId;
      index.add({ articleId: row.articleId, storyId, publishedAt: row.publishedAt, signature });
      if (row.storyId !== row.articleId) joinedNow++;
      const list = groups.get(storyId) ?? [];
      list.push({ title: row.title, source: row.source, similarity: match ? Math.round(match.similarity * 100) / 100 : null });
      groups.set(storyId, list);
    }
    const stories = [...groups.values()].filter((g) => g.length > 1).sort((a, b) => b.length - a.length);
    return { threshold, articles: rows.length, joined: stories.reduce((n, g) => n + g.length - 1, 0), joinedNow, stories };
  }

  /** The articles of a story (console). */
  copies(storyId: number): Promise<StoryCopy[]> {
    return this.repos.stories.copies(storyId);
  }

  recentStories(days: number, limit = 50) {
    return this.repos.stories.recentStories(new Date(this.clock.now().getTime() - days * 86_400_000), limit);
  }

  duplicateShare(days: number) {
    return this.repos.stories.duplicateShare(new Date(this.clock.now().getTime() - days * 86_400_000));
  }
}
