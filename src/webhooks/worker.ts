import { randomUUID } from 'node:crypto';
import type { Repositories } from '../repositories/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { signatureHeaders } from './signer.js';
import type { PostResult, WebhookHttpClient } from './http-client.js';
import type { ClaimedMessage } from './repository.js';

export interface DelivererOptions {
  /** Delay after each failed attempt; once they are used up the endpoint is disabled. */
  retryScheduleMs: number[];
  leaseMs: number;
  concurrency: number;
  /** Messages one claim takes (default concurrency × 8); a run holds at most two claims. */
  window?: number;
}

export interface DeliveryStats {
  claimed: number;
  delivered: number;
  retried: number;
  disabled: number;
}

interface Posted {
  m: ClaimedMessage;
  r: PostResult;
}

/**
 * The worker's webhook loop: claim due messages (with a lease, one per subscriber at a time),
 * sign and POST each, record every attempt, then delivered, retried after the schedule's delay,
 * or — schedule used up — the endpoint disabled with the reason. Delivery is at least once: a
 * worker that dies between the POST and its record leaves the message to be claimed again when
 * the lease ends, with the same webhook-id.
 *
 * Batches overlap: while one batch is POSTed the next is claimed and the one before is
 * recorded. A subscriber's next event becomes claimable only once the previous one is recorded
 * delivered, so a claim that finds nothing waits for the pending record and looks once more.
 */
export class WebhookDeliverer {
  private readonly owner = `webhooks:${randomUUID()}`;

  constructor(
    private readonly repos: Repositories,
    private readonly client: WebhookHttpClient,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: DelivererOptions,
  ) {}

  private claim(): Promise<ClaimedMessage[]> {
    const now = this.clock.now();
    return this.repos.webhooks.claim(this.owner, now, new Date(now.getTime() + this.opts.leaseMs), this.opts.window ?? this.opts.concurrency * 8);
  }

  /** Delivers until nothing is due (or `signal` aborts: what was claimed and not posted goes back). */
  async runOnce(signal?: AbortSignal): Promise<DeliveryStats> {
    const stats: DeliveryStats = { claimed: 0, delivered: 0, retried: 0, disabled: 0 };
    let recording: Promise<void> = Promise.resolve();
    let next: Promise<ClaimedMessage[]> | undefined = this.claim();
    try {
      for (;;) {
        let claimed = await next;
        next = undefined;
        if (claimed.length === 0) {
          await recording;
          if (signal?.aborted) break;
          claimed = await this.claim();
          if (claimed.length === 0) break;
        }
        if (signal?.aborted) {
          await this.repos.webhooks.requeue(claimed.map((m) => m.id), this.owner, { unposted: true });
          break;
        }
        stats.claimed += claimed.length;
        next = this.claim();
        next.catch(() => {}); // awaited on the next turn; this only keeps it from counting as unhandled meanwhile
        const posted = await this.postAll(claimed);
        recording = recording.then(() => this.record(posted, stats));
        recording.catch(() => {});
      }
    } finally {
      // A claim made ahead and not used goes back, the attempt not counted.
      if (next) await next.then((left) => this.repos.webhooks.requeue(left.map((m) => m.id), this.owner, { unposted: true })).catch(() => {});
      await recording.catch(() => {});
    }
    await recording;
    if (stats.claimed > 0) this.logger.info(stats, 'webhook run finished');
    return stats;
  }

  /** POSTs a claimed batch, `concurrency` at a time, with each endpoint as it is now. */
  private async postAll(claimed: ClaimedMessage[]): Promise<Posted[]> {
    const endpoints = await this.repos.webhooks.endpoints.byIds([...new Set(claimed.map((m) => m.endpointId))]);
    const posted: Posted[] = [];
    let i = 0;
    const lane = async () => {
      while (i < claimed.length) {
        const m = claimed[i++]!;
        const endpoint = endpoints.get(m.endpointId);
        if (!endpoint) continue; // deleted meanwhile: its messages went with it
        posted.push({ m, r: await this.client.post(endpoint.url, signatureHeaders(endpoint, m.eventId, this.clock.now(), m.body), m.body) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, claimed.length) }, lane));
    return posted;
  }

  /** Records a batch of POSTs: every attempt, the delivered ones, and retries or disabling for the rest. */
  private async record(items: Posted[], stats: DeliveryStats): Promise<void> {
    const now = this.clock.now();
    await this.repos.webhooks.recordAttempts(
      items.map(({ m, r }) => ({ messageId: m.id, endpointId: m.endpointId, attempt: m.attempts, ok: r.ok, statusCode: r.statusCode, error: r.error, responseBody: r.responseBody, durationMs: r.durationMs })),
      now,
    );
    const delivered = items.filter((i) => i.r.ok).map((i) => i.m.id);
    await this.repos.webhooks.markDelivered(delivered, now);
    stats.delivered += delivered.length;
    for (const { m, r } of items) {
      if (r.ok) continue;
      const error = r.error ?? 'failed';
      const delay = this.opts.retryScheduleMs[m.attempts - 1];
      if (delay === undefined) {
        // Every retry used up (~24 h by default): stop sending to it; its messages wait, in
        // order, for the endpoint to be enabled again.
        const reason = `${m.attempts} attempts failed; last: ${error}`.slice(0, 500);
        if (await this.repos.webhooks.endpoints.disable(m.endpointId, reason, now)) {
          stats.disabled++;
          this.logger.warn({ webhook: m.endpointId, reason }, 'webhook endpoint disabled');
        }
        await this.repos.webhooks.requeue([m.id], this.owner, { failed: { nextAttemptAt: now, error } });
      } else {
        await this.repos.webhooks.requeue([m.id], this.owner, { failed: { nextAttemptAt: new Date(now.getTime() + delay), error } });
        stats.retried++;
      }
    }
  }
}
