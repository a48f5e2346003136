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
 * It is a pipeline, not a series of batches: `concurrency` lanes take messages from a buffer
 * that is claimed again whenever it runs low, and finished POSTs are recorded in one statement
 * whenever no record is running (so records group themselves by the database's pace). A
 * subscriber's next event becomes claimable only once the previous one is recorded delivered,
 * so the run ends only when a claim made after the last record finds nothing.
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

  /** Delivers until nothing is due (or `signal` aborts: what was claimed and not posted goes back). */
  async runOnce(signal?: AbortSignal): Promise<DeliveryStats> {
    const stats: DeliveryStats = { claimed: 0, delivered: 0, retried: 0, disabled: 0 };
    const window = this.opts.window ?? this.opts.concurrency * 8;
    const queue: ClaimedMessage[] = [];
    const posted: Posted[] = [];
    let claiming: Promise<number> | undefined;
    let recording: Promise<void> | undefined;
    let recorded = 0; // records finished so far
    let emptyAfter = -1; // `recorded` when the last claim that found nothing began
    let inFlight = 0;
    let failure: unknown;
    let waiters: (() => void)[] = [];
    const wake = () => {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    };
    const stopped = () => failure !== undefined || signal?.aborted === true;

    const claim = (): Promise<number> =>
      (claiming ??= (async () => {
        const before = recorded;
        const now = this.clock.now();
        try {
          const rows = await this.repos.webhooks.claim(this.owner, now, new Date(now.getTime() + this.opts.leaseMs), window);
          queue.push(...rows);
          stats.claimed += rows.length;
          if (rows.length === 0) emptyAfter = before;
          return rows.length;
        } catch (err) {
          failure ??= err;
          return 0;
        } finally {
          claiming = undefined;
          wake();
        }
      })());

    // One record at a time; what finishes meanwhile waits for the next one.
    const flush = () => {
      if (recording || posted.length === 0) return;
      const batch = posted.splice(0);
      recording = this.record(batch, stats)
        .catch((err: unknown) => void (failure ??= err))
        .finally(() => {
          recording = undefined;
          recorded++;
          flush();
          wake();
        });
    };

    const take = async (): Promise<ClaimedMessage | undefined> => {
      for (;;) {
        if (stopped()) return undefined;
        const m = queue.shift();
        if (m) {
          if (queue.length < window / 2 && emptyAfter < recorded) void claim();
          return m;
        }
        if (claiming) await claiming;
        else if (emptyAfter < recorded) await claim();
        else if (inFlight > 0 || recording || posted.length > 0) {
          // The last claim found nothing; what is still being posted or recorded may make the
          // next event of its subscriber claimable.
          flush();
          await new Promise<void>((r) => waiters.push(r));
        } else return undefined;
      }
    };

    const lane = async () => {
      for (let m = await take(); m; m = await take()) {
        inFlight++;
        const r = await this.client.post(m.endpoint.url, signatureHeaders(m.endpoint, m.eventId, this.clock.now(), m.body), m.body);
        inFlight--;
        posted.push({ m, r });
        flush();
        wake();
      }
    };

    try {
      await Promise.all(Array.from({ length: this.opts.concurrency }, lane));
    } finally {
      // Claimed and not posted (stopping, or a failure): back, the attempt not counted.
      await claiming;
      if (queue.length > 0) await this.repos.webhooks.requeue(queue.splice(0).map((m) => m.id), this.owner, { unposted: true }).catch(() => {});
      while (recording || posted.length > 0) {
        flush();
        await recording;
      }
    }
    if (failure !== undefined) throw failure;
    if (stats.claimed > 0) this.logger.info(stats, 'webhook run finished');
    return stats;
  }

  /** Records a batch of POSTs: every attempt, the delivered ones, and retries or disabling for the rest. */
  private async record(items: Posted[], stats: DeliveryStats): Promise<void> {
    const now = this.clock.now();
    await this.repos.webhooks.recordResults(
      items.map(({ m, r }) => ({ messageId: m.id, endpointId: m.endpointId, attempt: m.attempts, ok: r.ok, statusCode: r.statusCode, error: r.error, responseBody: r.responseBody, durationMs: r.durationMs })),
      now,
    );
    stats.delivered += items.filter((i) => i.r.ok).length;
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
