import type { Repositories } from '../repositories/index.js';
import type { CandidateItem, DigestRecipient, QueuedDigest } from '../repositories/digests.js';
import { FREQUENCIES, type Frequency } from '../db/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { instantSlot, lastDailySlot, lastWeeklySlot, type Slot } from './schedule-time.js';
import { newMessageId } from './subscriptions.js';
import type { LinkSigner } from './links.js';
import type { Coordination } from '../db/coordination.js';

export interface SchedulerOptions {
  instantBatchMinutes: number;
  batchSize: number;
  mailDomain: string;
  /** The advisory lock that keeps a second process from scheduling at the same time; without it, runs are unlocked (the unique keys still hold). */
  coordination?: Coordination;
}

export interface DigestPayload {
  frequency: Frequency;
  period: string;
  /** Articles by topic, newest first; an article that matched several topics is under the first. */
  sections: { topicId: number; articleIds: number[] }[];
}

export interface RunResult {
  runId: number | null;
  skipped: boolean;
  scanned: number;
  queued: number;
  ms: number;
}

// Look-back bounds what "new" can mean, so the scan never walks a topic's whole history.
const LOOKBACK_MS: Record<Frequency, number> = { instant: 2 * 86_400_000, daily: 3 * 86_400_000, weekly: 15 * 86_400_000 };
// A run that queues at least this many digests refreshes the queue tables' statistics.
const ANALYZE_AFTER = 2_000;
// Arbitrary, fixed: the key of the scheduler's advisory lock.
const SCHEDULER_LOCK_KEY = 7_301_001;

/**
 * Finds due digests and queues one delivery per (subscriber, frequency, period). Safe to run
 * twice or in two processes at once: one holds the advisory lock, and even without it the
 * idempotency key and the sent_articles key make a second queueing impossible.
 */
export class DigestScheduler {
  private running: Promise<RunResult> | undefined;

  constructor(
    private readonly repos: Repositories,
    private readonly signer: LinkSigner,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: SchedulerOptions,
  ) {}

  /** Runs once now; a call while this process is already running joins that run. */
  run(trigger: 'cron' | 'api' | 'cli' | 'test'): Promise<RunResult> {
    this.running ??= this.runLocked(trigger).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runLocked(trigger: 'cron' | 'api' | 'cli' | 'test'): Promise<RunResult> {
    if (!this.opts.coordination) return this.runUnlocked(trigger);
    const outcome = await this.opts.coordination.tryWithLock(SCHEDULER_LOCK_KEY, () => this.runUnlocked(trigger));
    if (outcome.ran) return outcome.value;
    this.logger.info('another process is scheduling digests; skipping this run');
    return { runId: null, skipped: true, scanned: 0, queued: 0, ms: 0 };
  }

  private async runUnlocked(trigger: 'cron' | 'api' | 'cli' | 'test'): Promise<RunResult> {
    // Run time is a duration, not a time of day: the monotonic clock, whatever the injected one says.
    const started = performance.now();
    const now = this.clock.now();
    const runId = await this.repos.digests.createRun(trigger, now);
    let scanned = 0;
    let queued = 0;
    let analyzedAt = 0;
    try {
      for (const frequency of FREQUENCIES) {
        let afterId = 0;
        for (;;) {
          const batch = await this.repos.digests.recipients(frequency, afterId, this.opts.batchSize);
          if (batch.length === 0) break;
          afterId = batch[batch.length - 1]!.id;
          scanned += batch.length;
          queued += await this.scheduleBatch(batch, frequency, now, runId);
          // Senders claim while this run queues: keep the queue's statistics current (see
          // refreshQueueStatistics) after each tenfold growth of what this run queued.
          if (queued >= Math.max(ANALYZE_AFTER, analyzedAt * 10)) {
            await this.repos.digests.refreshQueueStatistics();
            analyzedAt = queued;
          }
        }
      }
      if (queued >= ANALYZE_AFTER && queued > analyzedAt * 2) await this.repos.digests.refreshQueueStatistics();
      await this.repos.digests.finishRun(runId, { status: 'finished', now: this.clock.now(), scanned, queued });
    } catch (err) {
      await this.repos.digests.finishRun(runId, { status: 'failed', now: this.clock.now(), scanned, queued, error: String(err) });
      throw err;
    }
    const ms = Math.round(performance.now() - started);
    if (queued > 0) this.logger.info({ runId, scanned, queued, ms }, 'digests queued');
    return { runId, skipped: false, scanned, queued, ms };
  }

  /** What each frequency's digest would carry for this subscriber if it were due now (admin preview). */
  async pendingFor(subscriberId: number): Promise<DigestPayload[]> {
    const now = this.clock.now();
    const out: DigestPayload[] = [];
    for (const frequency of FREQUENCIES) {
      const items = await this.repos.digests.candidates([subscriberId], frequency, new Date(now.getTime() - LOOKBACK_MS[frequency]), now);
      if (items.length > 0) out.push(buildPayload(items, frequency, 'preview'));
    }
    return out;
  }

  private slotFor(r: DigestRecipient, frequency: Frequency, now: Date): Slot {
    if (frequency === 'instant') return instantSlot(now, this.opts.instantBatchMinutes);
    if (frequency === 'daily') return lastDailySlot(now, r.timeZone, r.digestHour);
    return lastWeeklySlot(now, r.timeZone, r.digestWeekday, r.digestHour);
  }

  private async scheduleBatch(batch: DigestRecipient[], frequency: Frequency, now: Date, runId: number): Promise<number> {
    const live = batch.filter((r) => !r.pausedIndefinitely && !(r.pausedUntil && r.pausedUntil > now));
    const hashes = new Map(live.map((r) => [r.id, this.signer.emailHash(r.emailNormalized)]));
    const suppressed = await this.repos.suppressions.suppressedAmong([...hashes.values()]);
    const recipients = live.filter((r) => !suppressed.has(hashes.get(r.id)!));
    if (recipients.length === 0) return 0;

    const items = await this.repos.digests.candidates(recipients.map((r) => r.id), frequency, new Date(now.getTime() - LOOKBACK_MS[frequency]), now);
    const bySubscriber = new Map<number, CandidateItem[]>();
    for (const it of items) {
      const list = bySubscriber.get(it.subscriberId);
      if (list) list.push(it);
      else bySubscriber.set(it.subscriberId, [it]);
    }

    const digests: QueuedDigest[] = [];
    for (const r of recipients) {
      const slot = this.slotFor(r, frequency, now);
      // A daily or weekly digest carries what matched before its slot; later matches wait
      // for the next one. An instant digest carries everything new.
      const mine = (bySubscriber.get(r.id) ?? []).filter((it) => frequency === 'instant' || it.matchedAt < slot.at);
      if (mine.length === 0) continue;
      digests.push({
        subscriberId: r.id,
        toAddress: r.email,
        idempotencyKey: `digest:${r.id}:${frequency}:${slot.period}`,
        messageId: newMessageId(this.opts.mailDomain),
        payload: buildPayload(mine, frequency, slot.period),
        articleIds: [...new Set(mine.map((it) => it.articleId))],
      });
    }
    return this.repos.transaction((t) => t.digests.queue(digests, runId, now));
  }
}

/** Groups a subscriber's new articles by topic, newest first, each article once. */
export function buildPayload(items: CandidateItem[], frequency: Frequency, period: string): DigestPayload {
  const sorted = [...items].sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime() || a.topicId - b.topicId);
  const seen = new Set<number>();
  const sections = new Map<number, number[]>();
  for (const it of sorted) {
    if (seen.has(it.articleId)) continue;
    seen.add(it.articleId);
    const list = sections.get(it.topicId);
    if (list) list.push(it.articleId);
    else sections.set(it.topicId, [it.articleId]);
  }
  return { frequency, period, sections: [...sections].map(([topicId, articleIds]) => ({ topicId, articleIds })) };
}
