import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { classifySendError, isConnectionError, type MailTransport } from '../mail/index.js';
import type { Repositories } from '../repositories/index.js';
import type { Delivery } from '../repositories/deliveries.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { normalizeEmail, type LinkSigner } from './links.js';
import type { MailComposer } from './mail-composer.js';

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
}

/** A token bucket: at most `rate` sends per second, bursts up to one second's worth. */
class TokenBucket {
  private tokens: number;
  private last = Date.now();
  constructor(private readonly rate: number) {
    this.tokens = rate;
  }
  async take(): Promise<void> {
    if (this.rate <= 0) return;
    for (;;) {
      const now = Date.now();
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
    this.bucket = new TokenBucket(opts.ratePerSecond);
  }

  state(): SenderState {
    const paused = Date.now() < this.pausedUntil;
    return { paused, pausedUntil: paused ? new Date(this.pausedUntil) : null, consecutiveFailures: this.consecutiveFailures, pauses: this.pauses };
  }

  /**
   * After repeated connection failures the relay is down: stop handing it mail for a while,
   * with growing back-off, rather than burning every delivery's attempts. Resumes by itself.
   */
  private noteConnectionFailure(): void {
    this.consecutiveFailures++;
    if (this.consecutiveFailures < (this.opts.pauseAfterFailures ?? 3) || Date.now() < this.pausedUntil) return;
    this.pausedUntil = Date.now() + this.pauseMs;
    this.pauses++;
    this.logger.warn({ pauseMs: this.pauseMs, failures: this.consecutiveFailures }, 'SMTP relay unreachable: sender paused');
    this.pauseMs = Math.min(this.pauseMs * 2, PAUSE_MAX_MS);
  }

  private noteSuccess(): void {
    if (this.consecutiveFailures > 0 && this.pauses > 0) this.logger.info('SMTP relay reachable again: sender resumed');
    this.consecutiveFailures = 0;
    this.pauseMs = PAUSE_MIN_MS;
  }

  /** Sends until the queue has nothing due (or the signal asks to stop after this batch). */
  async runOnce(signal?: AbortSignal): Promise<SendRunStats> {
    const stats: SendRunStats = { claimed: 0, sent: 0, retried: 0, failed: 0, bounced: 0, cancelled: 0 };
    while (!signal?.aborted && Date.now() >= this.pausedUntil) {
      const now = this.clock.now();
      const batch = await this.repos.deliveries.claim(this.owner, now, new Date(now.getTime() + this.opts.leaseMs), this.opts.batchSize);
      if (batch.length === 0) break;
      stats.claimed += batch.length;
      let next = 0;
      const lane = async () => {
        while (next < batch.length) {
          const outcome = await this.deliver(batch[next++]!);
          stats[outcome]++;
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, batch.length) }, lane));
    }
    if (stats.claimed > 0) this.logger.info(stats, 'send run finished');
    return stats;
  }

  private async deliver(d: Delivery): Promise<'sent' | 'retried' | 'failed' | 'bounced' | 'cancelled'> {
    if (Date.now() < this.pausedUntil) {
      // Claimed before the pause: back to the queue for when it ends, the attempt not counted.
      await this.repos.deliveries.release(d.id, this.owner, { now: this.clock.now(), nextAttemptAt: new Date(this.clock.now().getTime() + (this.pausedUntil - Date.now())) });
      return 'retried';
    }
    const finish = (status: 'sent' | 'failed' | 'bounced' | 'cancelled', extra: { smtpResponse?: string; error?: string } = {}) =>
      this.repos.deliveries.finish(d.id, this.owner, { status, now: this.clock.now(), ...extra });

    if (!d.toAddress) {
      await finish('cancelled', { error: 'no recipient' });
      return 'cancelled';
    }
    const emailHash = this.signer.emailHash(normalizeEmail(d.toAddress));
    if (await this.repos.suppressions.isSuppressed(emailHash)) {
      await finish('cancelled', { error: 'address is suppressed' });
      return 'cancelled';
    }

    let message;
    try {
      const composed = await this.composer.compose(d);
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
      await finish('sent', { smtpResponse: result.response.slice(0, 1000) });
      return 'sent';
    } catch (err) {
      if (isConnectionError(err)) this.noteConnectionFailure();
      const kind = classifySendError(err);
      if (kind === 'permanent') {
        await this.repos.suppressions.add(emailHash, 'hard-bounce', `delivery ${d.id}: ${errorText(err).slice(0, 200)}`, this.clock.now());
        await finish('bounced', { error: errorText(err) });
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
