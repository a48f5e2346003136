import type { Repositories } from '../repositories/index.js';
import type { CandidateItem, DigestRecipient, QueuedDigest } from '../repositories/digests.js';
import { FREQUENCIES, type Frequency } from '../db/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { instantSlot, lastDailySlot, lastWeeklySlot, type Slot } from './schedule-time.js';
import { newMessageId } from './subscriptions.js';
import type { LinkSigner } from './links.js';
import type { Coordination } from '../db/coordination.js';
import { inQuietHours, instantCapOf, localMidnight, quietHoursOf, type AttentionDefaults } from './attention.js';

export interface SchedulerOptions {
  instantBatchMinutes: number;
  /** Articles (stories) first seen longer ago are never offered: their claims may be dropped by then. */
  claimsRetentionMs: number;
  batchSize: number;
  mailDomain: string;
  /** The advisory lock that keeps a second process from scheduling at the same time; without it, runs are unlocked (the unique keys still hold). */
  coordination?: Coordination;
  /** The publisher's quiet hours and instant cap for readers who set none. */
  attention?: AttentionDefaults;
}

const NO_ATTENTION_DEFAULTS: AttentionDefaults = { quietHours: null, instantDailyCap: 0 };

export interface DigestPayload {
  frequency: Frequency;
  period: string;
  /** Stories by topic, newest first, each as the article of its first copy; a story that matched several topics is under the first. */
  sections: { topicId: number; articleIds: number[] }[];
  /** Per entry's article id, the later copies of its story folded into it. */
  copies?: Record<string, number[]>;
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

  private claimsHorizon(now: Date): Date {
    return new Date(now.getTime() - this.opts.claimsRetentionMs);
  }

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
    let inFlight: Promise<unknown> | undefined;
    try {
      for (const frequency of FREQUENCIES) {
        // Two batches in flight: the next one is read and prepared (recipients, candidates, the
        // digests built) while this one's transaction commits, so the database and this process
        // work at once. Batches are disjoint sets of subscribers: neither sees the other's rows.
        const fetch = async (afterId: number) => {
          const batch = await this.repos.digests.recipients(frequency, afterId, this.opts.batchSize);
          return batch.length === 0 ? undefined : { batch, prepared: await this.prepareBatch(batch, frequency, now) };
        };
        let ahead = fetch(0);
        for (;;) {
          const current = await ahead;
          if (!current) break;
          scanned += current.batch.length;
          ahead = fetch(current.batch[current.batch.length - 1]!.id);
          // Its failure surfaces when it is awaited; until then it must not count as unhandled.
          ahead.catch(() => {});
          inFlight = ahead;
          queued += await this.commitBatch(current.prepared, runId, now);
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
      // Nothing of this run may still be running when it is recorded failed.
      await inFlight?.catch(() => {});
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
      const items = await this.repos.digests.candidates([subscriberId], frequency, new Date(now.getTime() - LOOKBACK_MS[frequency]), now, this.claimsHorizon(now));
      if (items.length > 0) out.push(buildDigest(items, frequency, 'preview').payload);
    }
    return out;
  }

  private slotFor(r: DigestRecipient, frequency: Frequency, now: Date): Slot {
    if (frequency === 'instant') return instantSlot(now, this.opts.instantBatchMinutes);
    if (frequency === 'daily') return lastDailySlot(now, r.timeZone, r.digestHour);
    return lastWeeklySlot(now, r.timeZone, r.digestWeekday, r.digestHour);
  }

  /**
   * Instant recipients who may get an alert now: not in their quiet hours (their alerts wait,
   * unclaimed, for the hours to end) and under their daily cap (over it, their alerts wait for
   * the next daily digest: marked as overflowing, they are that digest's recipients too, and get
   * no instant alert until it has gone out, even once a new day resets the count).
   */
  private async instantAllowed(recipients: DigestRecipient[], now: Date): Promise<DigestRecipient[]> {
    const defaults = this.opts.attention ?? NO_ATTENTION_DEFAULTS;
    const awake = recipients.filter((r) => r.instantOverflowSince === null && !inQuietHours(now, r.timeZone, quietHoursOf(r, defaults)));
    const capped = awake.filter((r) => instantCapOf(r, defaults) > 0);
    if (capped.length === 0) return awake;
    const midnights = new Map(capped.map((r) => [r.id, localMidnight(now, r.timeZone)]));
    const earliest = new Date(Math.min(...[...midnights.values()].map((d) => d.getTime())));
    const sentToday = new Map<number, number>();
    for (const d of await this.repos.deliveries.instantDigestTimes([...midnights.keys()], earliest)) {
      if (d.createdAt >= midnights.get(d.subscriberId)!) sentToday.set(d.subscriberId, (sentToday.get(d.subscriberId) ?? 0) + 1);
    }
    const over = capped.filter((r) => (sentToday.get(r.id) ?? 0) >= instantCapOf(r, defaults)).map((r) => r.id);
    await this.repos.subscribers.markInstantOverflow(over, now);
    const held = new Set(over);
    return awake.filter((r) => !held.has(r.id));
  }

  /**
   * The daily pass also carries the instant alerts held over the cap: every instant match of an
   * overflowing reader still unsent (whatever held it first, the cap holds it now).
   */
  private async overflowItems(recipients: DigestRecipient[], now: Date): Promise<CandidateItem[]> {
    const waiting = recipients.filter((r) => r.instantOverflowSince !== null);
    if (waiting.length === 0) return [];
    const since = Math.min(...waiting.map((r) => r.instantOverflowSince!.getTime()), now.getTime() - LOOKBACK_MS.instant);
    return this.repos.digests.candidates(waiting.map((r) => r.id), 'instant', new Date(since), now, this.claimsHorizon(now));
  }

  /** A batch's digests, built from its recipients' candidates; nothing is queued yet. */
  private async prepareBatch(batch: DigestRecipient[], frequency: Frequency, now: Date): Promise<{ digests: QueuedDigest[]; released: number[] }> {
    const live = batch.filter((r) => !r.pausedIndefinitely && !(r.pausedUntil && r.pausedUntil > now));
    const hashes = new Map(live.map((r) => [r.id, this.signer.emailHash(r.emailNormalized)]));
    const suppressed = await this.repos.suppressions.suppressedAmong([...hashes.values()]);
    let recipients = live.filter((r) => !suppressed.has(hashes.get(r.id)!));
    if (frequency === 'instant') recipients = await this.instantAllowed(recipients, now);
    if (recipients.length === 0) return { digests: [], released: [] };

    const items = await this.repos.digests.candidates(recipients.map((r) => r.id), frequency, new Date(now.getTime() - LOOKBACK_MS[frequency]), now, this.claimsHorizon(now));
    if (frequency === 'daily') items.push(...(await this.overflowItems(recipients, now)));
    const bySubscriber = new Map<number, CandidateItem[]>();
    for (const it of items) {
      const list = bySubscriber.get(it.subscriberId);
      if (list) list.push(it);
      else bySubscriber.set(it.subscriberId, [it]);
    }

    const digests: QueuedDigest[] = [];
    // Most readers of a batch share a time zone and hour: each slot is worked out once.
    const slots = new Map<string, Slot>();
    for (const r of recipients) {
      const slotKey = `${r.timeZone}|${r.digestHour}|${r.digestWeekday}`;
      let slot = slots.get(slotKey);
      if (!slot) slots.set(slotKey, (slot = this.slotFor(r, frequency, now)));
      // A daily or weekly digest carries what matched before its slot; later matches wait
      // for the next one. An instant digest carries everything new.
      const mine = (bySubscriber.get(r.id) ?? []).filter((it) => frequency === 'instant' || it.matchedAt < slot.at);
      if (mine.length === 0) continue;
      const { payload, stories } = buildDigest(mine, frequency, slot.period);
      digests.push({
        subscriberId: r.id,
        toAddress: r.email,
        idempotencyKey: `digest:${r.id}:${frequency}:${slot.period}`,
        periodStart: slot.period.slice(0, 10),
        messageId: newMessageId(this.opts.mailDomain),
        payload,
        stories,
      });
    }
    // A daily digest that went out carried the held instant alerts: the overflow is over.
    const overflowing = new Set(recipients.filter((r) => r.instantOverflowSince !== null).map((r) => r.id));
    const released = frequency === 'daily' ? digests.filter((d) => overflowing.has(d.subscriberId)).map((d) => d.subscriberId) : [];
    return { digests, released };
  }

  /** Queues a prepared batch (digests, claims, the overflow released) in one transaction. */
  private async commitBatch(p: { digests: QueuedDigest[]; released: number[] }, runId: number, now: Date): Promise<number> {
    if (p.digests.length === 0 && p.released.length === 0) return 0;
    return this.repos.transaction(async (t) => {
      const queued = await t.digests.queue(p.digests, runId, now);
      await t.subscribers.clearInstantOverflow(p.released);
      return queued;
    });
  }
}

/**
 * A subscriber's digest from their new matches: one entry per story (and edition), the story's
 * first copy standing for it and the later copies folded in (listed as "Also reported by"),
 * grouped by the topic the entry matched first, newest first; each article once.
 */
export function buildDigest(items: CandidateItem[], frequency: Frequency, period: string): { payload: DigestPayload; stories: QueuedDigest['stories'] } {
  const byStory = new Map<string, CandidateItem[]>();
  for (const it of items) {
    const key = `${it.storyId}:${it.edition}`;
    const list = byStory.get(key);
    if (list) list.push(it);
    else byStory.set(key, [it]);
  }
  const entries = [...byStory.values()].map((group) => {
    // The first copy published (then the lowest id) is the entry; the rest are its copies.
    const sorted = [...group].sort((a, b) => a.publishedAt.getTime() - b.publishedAt.getTime() || a.articleId - b.articleId || a.topicId - b.topicId);
    const first = sorted[0]!;
    const copies = [...new Set(sorted.map((it) => it.articleId))].filter((id) => id !== first.articleId);
    return { first, copies };
  });
  entries.sort((a, b) => b.first.publishedAt.getTime() - a.first.publishedAt.getTime() || a.first.topicId - b.first.topicId);
  const sections = new Map<number, number[]>();
  const copies: Record<string, number[]> = {};
  const stories: QueuedDigest['stories'] = [];
  for (const { first, copies: more } of entries) {
    const list = sections.get(first.topicId);
    if (list) list.push(first.articleId);
    else sections.set(first.topicId, [first.articleId]);
    if (more.length > 0) copies[first.articleId] = more;
    stories.push({ storyId: first.storyId, edition: first.edition, articleIds: [first.articleId, ...more] });
  }
  const payload: DigestPayload = { frequency, period, sections: [...sections].map(([topicId, articleIds]) => ({ topicId, articleIds })) };
  if (Object.keys(copies).length > 0) payload.copies = copies;
  return { payload, stories };
}
