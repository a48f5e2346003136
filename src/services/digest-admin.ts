import { randomUUID } from 'node:crypto';
import { notFound } from '../errors.js';
import type { Repositories } from '../repositories/index.js';
import type { Delivery, DeliveryListFilter } from '../repositories/deliveries.js';
import type { Clock } from '../clock.js';
import type { DigestScheduler, DigestPayload, RunResult } from './digests.js';
import type { MailComposer } from './mail-composer.js';
import { newMessageId } from './subscriptions.js';
import type { Frequency } from '../db/types.js';

export interface DigestPreview {
  frequency: Frequency;
  articleCount: number;
  subject: string;
  html: string;
  text: string;
}

/**
 * The admin's side of the digest pipeline: run the scheduler now, send a test digest, preview
 * what a subscriber would get, and read the delivery log. Every change is audited here.
 */
export class DigestAdminService {
  constructor(
    private readonly repos: Repositories,
    private readonly scheduler: DigestScheduler,
    private readonly composer: MailComposer,
    private readonly clock: Clock,
    private readonly opts: { mailDomain: string },
  ) {}

  async runNow(actor: string): Promise<RunResult> {
    const result = await this.scheduler.run('api');
    await this.repos.audit.record({ actor, action: 'digests.run', target: result.runId ? `run:${result.runId}` : null, details: { ...result } });
    return result;
  }

  /** Queues a sample digest of the newest articles to any address (to see how mail looks). */
  async queueTest(email: string, actor: string): Promise<Delivery | undefined> {
    return this.repos.transaction(async (r) => {
      const d = await r.deliveries.enqueue({
        kind: 'test',
        subscriberId: null,
        toAddress: email,
        idempotencyKey: `test:${randomUUID()}`,
        payload: {},
        messageId: newMessageId(this.opts.mailDomain),
        now: this.clock.now(),
      });
      await r.audit.record({ actor, action: 'digests.test', target: d ? `delivery:${d.id}` : null });
      return d;
    });
  }

  /** What a subscriber's digests would contain if due now; nothing is queued. */
  async preview(subscriberId: number): Promise<DigestPreview[]> {
    const subscriber = await this.repos.subscribers.findById(subscriberId);
    if (!subscriber) throw notFound(`Subscriber ${subscriberId}`);
    const previews: DigestPreview[] = [];
    for (const payload of await this.scheduler.pendingFor(subscriberId)) {
      const ids = [...payload.sections.flatMap((s: DigestPayload['sections'][number]) => s.articleIds), ...Object.values(payload.copies ?? {}).flat()];
      const articles = new Map((await this.repos.articles.digestRows(ids)).map((a) => [a.id, a]));
      const digest = await this.composer.renderDigest(subscriber, payload, articles);
      if (digest) previews.push({ frequency: payload.frequency, articleCount: payload.sections.reduce((n, s) => n + s.articleIds.length, 0), subject: digest.rendered.subject, html: digest.rendered.html, text: digest.rendered.text });
    }
    return previews;
  }

  deliveries(filter: DeliveryListFilter): Promise<Delivery[]> {
    return this.repos.deliveries.list(filter);
  }

  deliveryCounts(): Promise<Record<string, number>> {
    return this.repos.deliveries.countByStatus();
  }
}
