import { DomainError } from '../errors.js';
import { parseVerpAddress } from '../mail/index.js';
import type { Repositories } from '../repositories/index.js';
import type { Clock } from '../clock.js';
import { normalizeEmail, type LinkSigner } from './links.js';
import { bounceEvent, complaintEvent, event, subscriberKey } from '../webhooks/index.js';

export interface BounceInput {
  email?: string;
  messageId?: string;
  type: 'hard' | 'soft' | 'complaint';
  detail?: string;
}

export interface BounceResult {
  type: BounceInput['type'];
  suppressed: boolean;
  unsubscribed: number;
  deliveryId: number | null;
}

const SOFT_LIMIT = 3;
const SOFT_WINDOW_MS = 14 * 86_400_000;

/**
 * Bounce and complaint reports (relay webhooks, VERP processors). A hard bounce suppresses the
 * address; soft bounces suppress it after 3 within 14 days; a complaint suppresses and
 * unsubscribes. Every report is recorded, by address hash only.
 */
export class BounceService {
  constructor(
    private readonly repos: Repositories,
    private readonly signer: LinkSigner,
    private readonly clock: Clock,
    private readonly bounceDomain: string | undefined,
    /** Reads the signed VERP token `<id>-<mac>` (src/deliverability/verp.ts). */
    private readonly verp?: { verify(token: string): number | undefined },
    /** Told of every recorded report (the reputation watch re-evaluates). */
    private readonly onRecorded?: (result: BounceResult) => Promise<void>,
  ) {}

  async record(input: BounceInput, actor: string): Promise<BounceResult> {
    const now = this.clock.now();
    let delivery: { id: number; toAddress: string | null; subscriberId: number | null } | undefined;
    if (input.messageId) delivery = await this.repos.deliveries.findByMessageId(input.messageId);
    // A VERP return path names the delivery: bounces+<id>-<mac>@BOUNCE_DOMAIN (signed), or the
    // bare id the API has always taken from its authenticated callers.
    const verpId = input.email && this.bounceDomain ? parseVerpAddress(input.email, this.bounceDomain) : null;
    const verpDelivery = verpId ? (this.verp?.verify(verpId) ?? (/^\d+$/.test(verpId) ? Number(verpId) : undefined)) : undefined;
    if (!delivery && verpDelivery !== undefined) delivery = await this.repos.deliveries.findById(verpDelivery);
    const address = verpId ? delivery?.toAddress : (input.email ?? delivery?.toAddress);
    if (!address) {
      throw new DomainError(404, 'not_found', input.messageId ? 'No delivery has this Message-ID (or its recipient was erased)' : 'No address to record the bounce for', [
        { path: input.messageId ? 'messageId' : 'email', message: 'not found' },
      ]);
    }
    const normalized = normalizeEmail(address);
    const hash = this.signer.emailHash(normalized);

    const result = await this.repos.transaction(async (r) => {
      await r.bounces.record({ emailHash: hash, deliveryId: delivery?.id ?? null, kind: input.type, detail: input.detail?.slice(0, 1000) ?? null, now });
      let suppressed = false;
      let unsubscribed = 0;
      const subscriberId = delivery?.subscriberId ?? (await r.subscribers.findByEmail(normalized))?.id ?? null;
      const unsubscribedTopics: string[] = [];
      if (input.type === 'hard') {
        await r.suppressions.add(hash, 'hard-bounce', input.detail?.slice(0, 200) ?? null, now);
        if (delivery) await r.deliveries.markBounced(delivery.id, input.detail ?? 'hard bounce', now);
        suppressed = true;
      } else if (input.type === 'soft') {
        if ((await r.bounces.softSince(hash, new Date(now.getTime() - SOFT_WINDOW_MS))) >= SOFT_LIMIT) {
          await r.suppressions.add(hash, 'soft-bounce', `${SOFT_LIMIT} soft bounces within 14 days`, now);
          suppressed = true;
        }
      } else {
        await r.suppressions.add(hash, 'complaint', input.detail?.slice(0, 200) ?? null, now);
        suppressed = true;
        const subscriber = await r.subscribers.findByEmail(normalized);
        if (subscriber) {
          const topicIds = await r.subscriptions.unsubscribe(subscriber.id, null, now);
          unsubscribed = topicIds.length;
          if (topicIds.length > 0) {
            unsubscribedTopics.push(...(await r.topics.findByIds(topicIds)).map((t) => t.slug));
            await r.webhooks.emit([event('subscriber.unsubscribed', subscriberKey(subscriber.id), { subscriberId: subscriber.id, email: subscriber.email, topics: unsubscribedTopics, channel: 'complaint' })], now);
            await r.consentEvents.record(
              { subscriberId: subscriber.id, action: 'withdrawn', topics: unsubscribedTopics, termsVersion: null, termsSha256: null, consentText: 'spam complaint', consentMode: null, sourceUrl: null, form: 'email', ip: null, userAgent: null },
              now,
            );
          }
        }
      }
      const about = { deliveryId: delivery?.id ?? null, subscriberId };
      await r.webhooks.emit([
        input.type === 'complaint'
          ? complaintEvent({ ...about, unsubscribedTopics })
          : bounceEvent({ ...about, bounceType: input.type, detail: input.detail?.slice(0, 500) ?? null, suppressed }),
      ], now);
      await r.audit.record({ actor, action: `bounce.${input.type}`, target: delivery ? `delivery:${delivery.id}` : null, details: { suppressed } });
      return { type: input.type, suppressed, unsubscribed, deliveryId: delivery?.id ?? null };
    });
    await this.onRecorded?.(result);
    return result;
  }
}
