import { frequencyKeys, prepareArticle, TopicIndex, type ArticleInput, type PreparedArticle } from '../matching/index.js';
import type { Logger } from '../logger.js';
import type { TopicsRepository } from '../repositories/topics.js';
import type { ArticlesRepository } from '../repositories/articles.js';
import type { Coordination, Listener } from '../db/coordination.js';

export interface MatcherDeps {
  topics: TopicsRepository;
  articles: ArticlesRepository;
  logger: Logger;
  maxQueryTerms: number;
  /** How often to compare the topic-set version (the fallback where LISTEN is unavailable). */
  syncIntervalMs: number;
  /** Where topic-change notifications come from (LISTEN on PostgreSQL). */
  coordination?: Coordination;
  /** How many recent articles measure term rarity for anchor choice. */
  raritySample?: number;
  /** Told after the index took in a change of the topics (made here or in another process). */
  onTopicsChanged?: () => void;
}

/**
 * Keeps an in-memory percolator of the active topics, current across processes: a trigger
 * bumps `topics_version` on every change to topics; this process LISTENs for it on PostgreSQL
 * and also polls the version, so a change made anywhere is matched here within seconds.
 */
export class MatcherService {
  private index = new TopicIndex();
  /** topic id → normalised query currently indexed, to apply only what changed. */
  private indexed = new Map<number, string>();
  private version = -1;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private listener: Listener | undefined;
  private stopped = false;

  constructor(private readonly deps: MatcherDeps) {}

  async start(): Promise<void> {
    const started = performance.now();
    this.index = new TopicIndex({ maxTerms: this.deps.maxQueryTerms, termFrequencies: await this.measureRarity() });
    await this.sync();
    this.deps.logger.info({ topics: this.index.size, ms: Math.round(performance.now() - started) }, 'topic index built');
    this.timer = setInterval(() => void this.sync(), this.deps.syncIntervalMs);
    this.timer.unref();
    this.listener = await this.deps.coordination?.listen('topics_changed', {
      onNotify: () => void this.sync(),
      // Polling still runs while the listener reconnects.
      onLost: (err) => this.deps.logger.warn({ err }, 'topic change listener lost its connection'),
      onFailed: (err) => this.deps.logger.warn({ err }, 'could not LISTEN for topic changes; polling only'),
    });
    if (this.stopped) await this.listener?.close();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.close();
    await this.syncing;
  }

  /** Topic ids (active) whose query accepts the article. */
  match(article: PreparedArticle): number[] {
    return this.index.match(article);
  }

  matchInput(article: ArticleInput): number[] {
    return this.index.match(prepareArticle(article));
  }

  get topicCount(): number {
    return this.index.size;
  }

  stats() {
    return this.index.stats();
  }

  /**
   * Brings the index up to the topics table. Single-flight: a call during a sync makes one
   * more pass afterwards, so a change committed mid-sync is never missed.
   */
  sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.syncAgain = false;
          await this.syncOnce();
        } while (this.syncAgain && !this.stopped);
      } catch (err) {
        this.deps.logger.error({ err }, 'topic index sync failed; will retry');
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const version = await this.deps.topics.version();
    if (version === this.version) return;
    const active = await this.deps.topics.activeQueries();
    const seen = new Set<number>();
    let changed = 0;
    for (const { id, query } of active) {
      seen.add(id);
      if (this.indexed.get(id) === query) continue;
      try {
        this.index.upsert(id, query);
        this.indexed.set(id, query);
        changed++;
      } catch (err) {
        // A stored query the parser no longer accepts must not stop every other topic.
        this.deps.logger.error({ err, topicId: id }, 'topic query rejected by the matcher');
      }
    }
    for (const id of [...this.indexed.keys()]) {
      if (!seen.has(id)) {
        this.index.remove(id);
        this.indexed.delete(id);
        changed++;
      }
    }
    const first = this.version === -1;
    this.version = version;
    if (changed > 0) this.deps.logger.debug({ changed, version }, 'topic index updated');
    if (!first) this.deps.onTopicsChanged?.();
  }

  private async measureRarity(): Promise<Map<string, number>> {
    const df = new Map<string, number>();
    const bump = (key: string) => df.set(key, (df.get(key) ?? 0) + 1);
    for (const a of await this.deps.articles.recentForRarity(this.deps.raritySample ?? 2000)) {
      for (const key of frequencyKeys(prepareArticle(a))) bump(key);
    }
    return df;
  }
}
