import type { TopicsRepository, Topic } from '../repositories/topics.js';
import type { Clock } from '../clock.js';
import { fresh } from './cache-age.js';

const TTL_MS = 5000;

/**
 * The active topics by slug, read at most every few seconds: the widget config and every signup
 * need them, on every page view. Cleared at once when topics change (in this process through
 * the topic service, in others through the matcher's change notification).
 */
export class ActiveTopicCache {
  private cached: { at: number; bySlug: Map<string, Topic> } | undefined;
  private listeners: (() => void)[] = [];

  constructor(
    private readonly topics: TopicsRepository,
    private readonly clock: Clock,
  ) {}

  async bySlug(): Promise<Map<string, Topic>> {
    const now = this.clock.now().getTime();
    if (!this.cached || !fresh(this.cached.at, now, TTL_MS)) {
      const list = await this.topics.list({ status: 'active' });
      this.cached = { at: now, bySlug: new Map(list.map((t) => [t.slug, t])) };
    }
    return this.cached.bySlug;
  }

  /** Called when topics changed; dependants (cached answers built from topics) are told too. */
  invalidate(): void {
    this.cached = undefined;
    for (const l of this.listeners) l();
  }

  onInvalidate(listener: () => void): void {
    this.listeners.push(listener);
  }
}
