import type { Repositories } from '../repositories/index.js';
import type { Clock } from '../clock.js';
import { utcDay, type DayFigures, type DigestRun, type StatusCounts, type TopicFigures } from '../repositories/stats.js';
import type { Feed } from '../repositories/feeds.js';
import type { SubscriptionStatus } from '../db/types.js';
import { notFound } from '../errors.js';

export interface TopicStats extends Omit<TopicFigures, 'topicId'> {
  /** signups / shown, null when the prompt was never shown. */
  conversion: number | null;
  /** confirmations / signups over the same window, null without signups. */
  confirmationRate: number | null;
}

export interface RunProgress {
  run: DigestRun | null;
  counts: StatusCounts;
  total: number;
  /** sent + failed + bounced + cancelled: deliveries that reached an outcome. */
  done: number;
  percent: number;
  /** Deliveries sent per minute over the last minute. */
  ratePerMinute: number;
  /** Seconds until the rest is sent at the current rate; null when idle or unknown. */
  secondsLeft: number | null;
  finished: boolean;
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10_000) / 10_000 : null);

/** What the dashboard and GET /api/v1/stats show: read-only aggregates over the repositories. */
export class AdminStatsService {
  constructor(private readonly repos: Repositories, private readonly clock: Clock) {}

  window(days: number): { from: string; to: string } {
    const now = this.clock.now();
    return { from: utcDay(new Date(now.getTime() - (days - 1) * 86_400_000)), to: utcDay(now) };
  }

  async stats(days: number, topic?: string): Promise<{ from: string; to: string; days: DayFigures[]; topics: TopicStats[] }> {
    if (topic && !(await this.repos.topics.findBySlug(topic))) throw notFound(`Topic "${topic}"`);
    const { from, to } = this.window(days);
    const [daily, perTopic] = await Promise.all([this.repos.stats.daily(from, to, topic), this.repos.stats.perTopic(from, to)]);
    return {
      from,
      to,
      days: daily,
      topics: perTopic
        .filter((t) => !topic || t.slug === topic)
        .map(({ topicId: _, ...t }) => ({ ...t, conversion: ratio(t.signups, t.shown), confirmationRate: ratio(t.confirmations, t.signups) })),
    };
  }

  async dashboard(days = 30): Promise<{
    from: string;
    to: string;
    days: DayFigures[];
    topics: TopicStats[];
    queue: { queued: number; sending: number; due: number; oldestDueAt: Date | null };
    lastRun: RunProgress;
    feeds: Feed[];
  }> {
    const newest = await this.repos.stats.lastRun();
    const [s, queue, lastRun, feeds] = await Promise.all([
      this.stats(days),
      this.repos.stats.queueDepth(this.clock.now()),
      this.progress(newest?.id),
      this.repos.feeds.list(),
    ]);
    return { ...s, queue, lastRun, feeds };
  }

  /**
   * Progress of a digest run: the one named, else the newest that is running or queued mail
   * (ticks that found nothing due are not worth a progress bar), else the newest.
   */
  async progress(runId?: number): Promise<RunProgress> {
    const run = runId === undefined ? ((await this.repos.stats.lastActiveRun()) ?? (await this.repos.stats.lastRun())) : await this.repos.stats.run(runId);
    if (!run) {
      return { run: null, counts: { queued: 0, sending: 0, sent: 0, failed: 0, bounced: 0, cancelled: 0 }, total: 0, done: 0, percent: 0, ratePerMinute: 0, secondsLeft: null, finished: true };
    }
    const { counts, sentLastMinute } = await this.repos.stats.runProgress(run.id, this.clock.now());
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const done = counts.sent + counts.failed + counts.bounced + counts.cancelled;
    const left = counts.queued + counts.sending;
    // A run still queueing has no final total yet; it is finished once it stopped and nothing is left.
    const finished = run.status !== 'running' && left === 0;
    return {
      run,
      counts,
      total,
      done,
      percent: total === 0 ? (finished ? 100 : 0) : Math.floor((done / total) * 1000) / 10,
      ratePerMinute: sentLastMinute,
      secondsLeft: left === 0 ? 0 : sentLastMinute > 0 ? Math.ceil((left / sentLastMinute) * 60) : null,
      finished,
    };
  }

  /** Subscriptions of every topic by status, for the console's topic list. */
  subscriptionCounts(): Promise<Map<number, Record<SubscriptionStatus, number>>> {
    return this.repos.stats.subscriptionCounts();
  }

  deliveryCounts(): Promise<StatusCounts> {
    return this.repos.stats.deliveryCounts();
  }

  recentRuns(limit: number): Promise<DigestRun[]> {
    return this.repos.stats.recentRuns(limit);
  }
}
