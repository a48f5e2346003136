import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { classifySendError, type MailTransport } from '../mail/index.js';
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
}

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

  constructor(
    private readonly repos: Repositories,
    private readonly composer: MailComposer,
    private readonly transport: MailTransport,
    private readonly signer: LinkSigner,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: SenderOptions,
  ) {}

  /** Sends until the queue has nothing due (or the signal asks to stop after this batch). */
  async runOnce(signal?: AbortSignal): Promise<SendRunStats> {
    const stats: SendRunStats = { claimed: 0, sent: 0, retried: 0, failed: 0, bounced: 0, cancelled: 0 };
    while (!signal?.aborted) {
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
      const result = await this.transport.send(message);
      await finish('sent', { smtpResponse: result.response.slice(0, 1000) });
      return 'sent';
    } catch (err) {
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
