import { randomUUID } from 'node:crypto';
import type { Repositories } from '../repositories/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { signatureHeaders } from './signer.js';
import type { WebhookHttpClient } from './http-client.js';
import type { ClaimedMessage, NewAttempt, WebhookEndpoint } from './repository.js';

export interface DelivererOptions {
  /** Delay after each failed attempt; once they are used up the endpoint is disabled. */
  retryScheduleMs: number[];
  leaseMs: number;
  concurrency: number;
  batchSize?: number;
}

export interface DeliveryStats {
  claimed: number;
  delivered: number;
  retried: number;
  disabled: number;
}

/**
 * The worker's webhook loop: claim due messages (with a lease, one per subscriber at a time),
 * sign and POST each, record every attempt, then delivered, retried after the schedule's delay,
 * or — schedule used up — the endpoint disabled with the reason. Delivery is at least once: a
 * worker that dies between the POST and its record leaves the message to be claimed again when
 * the lease ends, with the same webhook-id.
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

  /** Delivers until nothing is due (or `signal` aborts between batches). */
  async runOnce(signal?: AbortSignal): Promise<DeliveryStats> {
    const stats: DeliveryStats = { claimed: 0, delivered: 0, retried: 0, disabled: 0 };
    const batchSize = this.opts.batchSize ?? this.opts.concurrency * 8;
    while (!signal?.aborted) {
      const now = this.clock.now();
      const claimed = await this.repos.webhooks.claim(this.owner, now, new Date(now.getTime() + this.opts.leaseMs), batchSize);
      if (claimed.length === 0) break;
      stats.claimed += claimed.length;
      await this.deliverBatch(claimed, stats);
    }
    if (stats.claimed > 0) this.logger.info(stats, 'webhook run finished');
    return stats;
  }

  private async deliverBatch(claimed: ClaimedMessage[], stats: DeliveryStats): Promise<void> {
    const endpoints = await this.repos.webhooks.endpointsByIds([...new Set(claimed.map((m) => m.endpointId))]);
    const attempts: NewAttempt[] = [];
    const delivered: number[] = [];
    const failed: { m: ClaimedMessage; endpoint: WebhookEndpoint; error: string }[] = [];
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < claimed.length; i = next++) {
        const m = claimed[i]!;
        const endpoint = endpoints.get(m.endpointId);
        if (!endpoint) continue; // deleted meanwhile: its messages went with it
        const r = await this.client.post(endpoint.url, signatureHeaders(endpoint, m.eventId, this.clock.now(), m.body), m.body);
        attempts.push({ messageId: m.id, endpointId: m.endpointId, attempt: m.attempts, ok: r.ok, statusCode: r.statusCode, error: r.error, responseBody: r.responseBody, durationMs: r.durationMs });
        if (r.ok) delivered.push(m.id);
        else failed.push({ m, endpoint, error: r.error ?? 'failed' });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, claimed.length) }, lane));
    const now = this.clock.now();
    await this.repos.webhooks.recordAttempts(attempts, now);
    await this.repos.webhooks.markDelivered(delivered, now);
    stats.delivered += delivered.length;
    for (const { m, endpoint, error } of failed) {
      const delay = this.opts.retryScheduleMs[m.attempts - 1];
      if (delay === undefined) {
        // Every retry used up (~24 h by default): stop sending to it; its messages wait, in
        // order, for the endpoint to be enabled again.
        const reason = `${m.attempts} attempts failed; last: ${error}`.slice(0, 500);
        if (await this.repos.webhooks.disableEndpoint(endpoint.id, reason, now)) {
          stats.disabled++;
          this.logger.warn({ webhook: endpoint.id, reason }, 'webhook endpoint disabled');
        }
        await this.repos.webhooks.retryLater(m.id, this.owner, { nextAttemptAt: now, error });
      } else {
        await this.repos.webhooks.retryLater(m.id, this.owner, { nextAttemptAt: new Date(now.getTime() + delay), error });
        stats.retried++;
      }
    }
  }
}
