import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { classifySendError, isConnectionError, type MailTransport } from '../mail/index.js';
import type { Repositories } from '../repositories/index.js';
import type { Delivery } from '../repositories/deliveries.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { normalizeEmail, type LinkSigner } from './links.js';
import type { ComposeBatch, MailComposer } from './mail-composer.js';
import { bounceEvent } from '../webhooks/index.js';

export interface SenderOptions {
  batchSize: number;
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  concurrency: number;
  /** Messages per second for this process; 0 = unlimited. */
  ratePerSecond: number;
  /** Consecutive connection failures that pause the sender (default 3). */
  pauseAfterFailures?: number;
  /** Asked before every claim: true while sending is held (the reputation watch, src/deliverability). */
  hold?: () => Promise<boolean>;
}

/**
 * A token bucket: at most `rate` sends per second, bursts up to one second's worth. It refills
 * by the injected clock (so a frozen test clock with a rate set would wait for ever: tests that
 * freeze the clock leave SEND_RATE_PER_SECOND at 0).
 */
class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly rate: number,
    private readonly clock: Clock,
  ) {
    this.tokens = rate;
    this.last = clock.now().getTime();
  }
  async take(): Promise<void> {
    if (this.rate <= 0) return;
    for (;;) {
      const now = this.clock.now().getTime();
      this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / this.rate) * 1000)));
    }
  }
}

export interface SenderState {
  paused: boolean;
  pausedUntil: Date | null;
  consecutiveFailures: number;
  pauses: number;
}

const PAUSE_MIN_MS = 5_000;
const PAUSE_MAX_MS = 5 * 60_000;

export interface SendRunStats {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  bounced: number;
  cancelled: number;
}

interface PreparedBatch {
  compose: ComposeBatch;
  /** Keyed address hash by delivery id. */
  hashes: Map<number, string>;
  suppressed: Set<string>;
}

/** One runOnce's bookkeeping: the sent deliveries awaiting their bulk record. */
interface RunState {
  sent: { id: number; smtpResponse: string }[];
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 1000);

/**
 * The worker that turns queued deliveries into sent mail. Safe to run in several processes and
 * to kill at any moment: rows are claimed with FOR UPDATE SKIP LOCKED under a lease, an expired
 * lease returns them to the queue, and an outcome is only recorded by the lease holder. The one
 * window for a duplicate is a kill between the relay's acceptance and the `sent` record.
 */
export class DeliverySender {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly bucket: TokenBucket;
  private consecutiveFailures = 0;
  private pausedUntil = 0;
  private pauseMs = PAUSE_MIN_MS;
  private pauses = 0;

  constructor(
    private readonly repos: Repositories,
    private readonly composer: MailComposer,
    private readonly transport: MailTransport,
    private readonly signer: LinkSigner,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: SenderOptions,
  ) {
    this.bucket = new TokenBucket(opts.ratePerSecond, clock);
  }

  state(): SenderState {
    const paused = this.clock.now().getTime() < this.pausedUntil;
    return { paused, pausedUntil: paused ? new Date(this.pausedUntil) : null, consecutiveFailures: this.consecutiveFailures, pauses: this.pauses };
  }

  /**
   * After repeated connection failures the relay is down: stop handing it mail for a while,
   * with growing back-off, rather than burning every delivery's attempts. Resumes by itself.
   */
  private noteConnectionFailure(): void {
    this.consecutiveFailures++;
    if (this.consecutiveFailures < (this.opts.pauseAfterFailures ?? 3) || this.clock.now().getTime() < this.pausedUntil) return;
    this.pausedUntil = this.clock.now().getTime() + this.pauseMs;
    this.pauses++;
    this.logger.warn({ pauseMs: this.pauseMs, failures: this.consecutiveFailures }, 'SMTP relay unreachable: sender paused');
    this.pauseMs = Math.min(this.pauseMs * 2, PAUSE_MAX_MS);
  }

  private noteSuccess(): void {
    if (this.consecutiveFailures > 0 && this.pauses > 0) this.logger.info('SMTP relay reachable again: sender resumed');
    this.consecutiveFailures = 0;
    this.pauseMs = PAUSE_MIN_MS;
  }

  /**
   * Sends until the queue has nothing due (or the signal asks to stop: what is claimed is
   * finished first). Claims run ahead of the sending lanes as a sliding window: a new claim is
   * made when half of `batchSize` claimed-and-unsent deliveries are left, so the lanes never
   * wait for the database, yet at most `batchSize` wait unsent under this worker's lease. `sent`
   * outcomes are recorded in bulk, and the lanes stop sending while `batchSize` of them await
   * their record, so a kill can duplicate at most `batchSize` mails (those the relay accepted
   * before their record). Claiming does not wait for those records: it did, and at 100k digests
   * the lanes then spent most of their time waiting for a record and then a claim in turn.
   */
  async runOnce(signal?: AbortSignal): Promise<SendRunStats> {
    const stats: SendRunStats = { claimed: 0, sent: 0, retried: 0, failed: 0, bounced: 0, cancelled: 0 };
    const window = this.opts.batchSize;
    const flushAt = Math.max(1, Math.floor(window / 4));
    const queue: { d: Delivery; batch: PreparedBatch }[] = [];
    const run: RunState = { sent: [] };
    let exhausted = false;
    let held = false;
    let failure: unknown;
    let refilling: Promise<void> | undefined;
    let flushing: Promise<void> = Promise.resolve();

    const canClaim = () => !exhausted && !held && failure === undefined && !signal?.aborted && this.clock.now().getTime() >= this.pausedUntil;
    const refill = (): Promise<void> =>
      (refilling ??= (async () => {
        try {
          const want = window - queue.length;
          if (want <= 0 || !canClaim()) return;
          // Held: claim nothing more; what is claimed already finishes (a hold is no crash).
          if (this.opts.hold && (await this.opts.hold())) {
            held = true;
            return;
          }
          const now = this.clock.now();
          const claimed = await this.repos.deliveries.claim(this.owner, now, new Date(now.getTime() + this.opts.leaseMs), want);
          if (claimed.length === 0) {
            exhausted = true;
            return;
          }
          stats.claimed += claimed.length;
          const batch = await this.prepare(claimed);
          for (const d of claimed) queue.push({ d, batch });
        } catch (err) {
          failure ??= err;
        } finally {
          refilling = undefined;
        }
      })());
    const flush = (): Promise<void> => {
      if (run.sent.length === 0) return flushing;
      const items = run.sent.splice(0);
      recording += items.length;
      flushing = flushing.then(async () => {
        try {
          const now = this.clock.now();
          // The record and its 'delivery.sent' webhook events commit together.
          await this.repos.transaction(async (r) => {
            await r.deliveries.finishSent(this.owner, now, items);
            await r.webhooks.emitDeliveriesSent(items.map((i) => i.id), now);
          });
        } catch (err) {
          // Sent and not recorded: they will go again once their lease ends. Send nothing more
          // (the database is likely gone), so that stays within one window.
          recordFailed = true;
          failure ??= err;
        } finally {
          recording -= items.length;
        }
      });
      return flushing;
    };

    // Sent and not yet recorded, counting those being sent and those in a record under way: the
    // mails a kill would duplicate, never more than a window.
    let sending = 0;
    let recording = 0;
    let recordFailed = false;
    const lane = async () => {
      for (;;) {
        if (recordFailed) return;
        if (run.sent.length >= flushAt) void flush();
        if (queue.length <= window / 2 && canClaim()) void refill();
        if (run.sent.length + recording + sending >= window) {
          // A window's worth sent (or being sent) and not recorded: no more until the record is in.
          await flush();
          continue;
        }
        const item = queue.shift();
        if (item) {
          sending++;
          try {
            stats[await this.deliver(item.d, item.batch, run)]++;
          } catch (err) {
            failure ??= err; // recorded outcomes stay; the rest of the window still finishes
          } finally {
            sending--;
          }
          continue;
        }
        // Nothing ready: wait for the claim under way, or make one; at the end, record.
        if (refilling) {
          await refilling;
          continue;
        }
        if (!canClaim()) {
          await flush();
          return;
        }
        await refill();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.opts.concurrency) }, lane));
    await flush();
    if (failure !== undefined) throw failure;
    if (stats.claimed > 0) this.logger.info(stats, 'send run finished');
    return stats;
  }

  /** One claimed batch's lookups: the composer's prefetch and which addresses are suppressed. */
  private async prepare(claimed: Delivery[]): Promise<PreparedBatch> {
    const hashes = new Map<number, string>();
    for (const d of claimed) if (d.toAddress) hashes.set(d.id, this.signer.emailHash(normalizeEmail(d.toAddress)));
    const [compose, suppressed] = await Promise.all([this.composer.prepare(claimed), this.repos.suppressions.suppressedAmong([...new Set(hashes.values())])]);
    return { compose, hashes, suppressed };
  }

  private async deliver(d: Delivery, batch: PreparedBatch, run: RunState): Promise<'sent' | 'retried' | 'failed' | 'bounced' | 'cancelled'> {
    if (this.clock.now().getTime() < this.pausedUntil) {
      // Claimed before the pause: back to the queue for when it ends, the attempt not counted.
      await this.repos.deliveries.release(d.id, this.owner, { now: this.clock.now(), nextAttemptAt: new Date(this.pausedUntil) });
      return 'retried';
    }
    const finish = async (status: 'failed' | 'bounced' | 'cancelled', extra: { smtpResponse?: string; error?: string } = {}) => {
      await this.repos.deliveries.finish(d.id, this.owner, { status, now: this.clock.now(), ...extra });
    };

    if (!d.toAddress) {
      await finish('cancelled', { error: 'no recipient' });
      return 'cancelled';
    }
    const emailHash = batch.hashes.get(d.id)!;
    if (batch.suppressed.has(emailHash)) {
      await finish('cancelled', { error: 'address is suppressed' });
      return 'cancelled';
    }

    let message;
    try {
      const composed = await this.composer.compose(d, batch.compose);
      if ('cancel' in composed) {
        await finish('cancelled', { error: composed.cancel });
        return 'cancelled';
      }
      message = composed.message;
    } catch (err) {
      // A message that cannot be built (e.g. a header would carry CR/LF) will never send.
      this.logger.error({ err, deliveryId: d.id }, 'delivery could not be composed');
      await finish('failed', { error: `could not compose: ${errorText(err)}` });
      return 'failed';
    }

    try {
      await this.bucket.take();
      const result = await this.transport.send(message);
      this.noteSuccess();
      run.sent.push({ id: d.id, smtpResponse: result.response.slice(0, 1000) });
      return 'sent';
    } catch (err) {
      if (isConnectionError(err)) this.noteConnectionFailure();
      const kind = classifySendError(err);
      if (kind === 'permanent') {
        batch.suppressed.add(emailHash); // later mail to this address in the batch is cancelled
        const now = this.clock.now();
        await this.repos.transaction(async (r) => {
          await r.suppressions.add(emailHash, 'hard-bounce', `delivery ${d.id}: ${errorText(err).slice(0, 200)}`, now);
          if (await r.deliveries.finish(d.id, this.owner, { status: 'bounced', now, error: errorText(err) })) {
            await r.webhooks.emit([bounceEvent({ deliveryId: d.id, subscriberId: d.subscriberId, bounceType: 'hard', detail: errorText(err).slice(0, 500), suppressed: true })], now);
          }
        });
        return 'bounced';
      }
      if (d.attempts >= this.opts.maxAttempts) {
        await finish('failed', { error: `gave up after ${d.attempts} attempts: ${errorText(err)}` });
        return 'failed';
      }
      // Exponential back-off with full jitter in [0.5, 1.5) of the step.
      const step = this.opts.retryBaseMs * 2 ** (d.attempts - 1);
      const now = this.clock.now();
      await this.repos.deliveries.retryLater(d.id, this.owner, { now, nextAttemptAt: new Date(now.getTime() + step * (0.5 + Math.random())), error: errorText(err) });
      return 'retried';
    }
  }
}
