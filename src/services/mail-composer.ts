import type { SendMailOptions } from 'nodemailer';
import { buildMessage, type MailTemplates, type MailCommonData } from '../mail/index.js';
import type { Repositories } from '../repositories/index.js';
import type { Delivery } from '../repositories/deliveries.js';
import type { Subscriber } from '../repositories/subscribers.js';
import type { Clock } from '../clock.js';
import type { Links } from './links.js';

export interface ComposerOptions {
  baseUrl: string;
  from: string;
  publisherName: string;
  postalAddress: string;
  bounceDomain?: string;
  unsubscribeMailto?: string;
  listId: string;
  manageTtlMs: number;
}

export type Composition = { message: SendMailOptions } | { cancel: string };

/**
 * Turns a queued delivery into a message: reads what the mail is about as it is now (a
 * confirmation already used is not sent), fills the compiled template, builds the headers.
 * Rendering only; sending is the sender's.
 */
export class MailComposer {
  constructor(
    private readonly repos: Repositories,
    private readonly templates: MailTemplates,
    private readonly links: Links,
    private readonly clock: Clock,
    private readonly opts: ComposerOptions,
  ) {}

  private common(subscriber: Subscriber): MailCommonData {
    return {
      lang: subscriber.language || 'en',
      timeZone: subscriber.timeZone,
      publisherName: this.opts.publisherName,
      postalAddress: this.opts.postalAddress,
      baseUrl: this.opts.baseUrl,
    };
  }

  private envelope(delivery: Delivery, to: string) {
    return {
      from: { name: this.opts.publisherName, address: this.opts.from },
      to,
      messageId: delivery.messageId,
      deliveryId: String(delivery.id),
      bounceDomain: this.opts.bounceDomain,
      headers: { 'X-Delivery-Id': String(delivery.id) },
    };
  }

  async compose(delivery: Delivery): Promise<Composition> {
    if (!delivery.toAddress || delivery.subscriberId === null) return { cancel: 'recipient erased' };
    const subscriber = await this.repos.subscribers.findById(delivery.subscriberId);
    if (!subscriber) return { cancel: 'recipient erased' };
    const now = this.clock.now();
    switch (delivery.kind) {
      case 'confirmation': {
        const { requestId } = delivery.payload as { requestId: number };
        const req = await this.repos.subscribers.findConfirmationRequest(requestId);
        if (!req || req.usedAt) return { cancel: 'confirmation already answered' };
        if (req.expiresAt <= now) return { cancel: 'confirmation expired before it could be sent' };
        const topics = await this.repos.topics.findByIds(req.topicIds);
        const terms = await this.repos.terms.current();
        const rendered = this.templates.render('confirm', {
          ...this.common(subscriber),
          topics: topics.map((t) => ({ name: t.name, slug: t.slug })),
          frequency: req.frequency,
          confirmUrl: this.links.confirmUrl(req.id),
          declineUrl: this.links.declineUrl(req.id),
          expiresAt: req.expiresAt,
          termsVersion: terms?.version ?? '',
          termsUrl: terms ? `${this.opts.baseUrl}/terms/${terms.version}` : `${this.opts.baseUrl}/terms`,
        });
        return { message: buildMessage({ ...this.envelope(delivery, delivery.toAddress), ...rendered }) };
      }
      case 'manage-link': {
        const preferencesUrl = this.links.preferencesUrl(subscriber.id, now);
        const unsubscribeUrl = this.links.unsubscribeUrl(subscriber.id, null, now);
        const rendered = this.templates.render('manage-link', {
          ...this.common(subscriber),
          preferencesUrl,
          unsubscribeUrl,
          expiresAt: new Date(now.getTime() + this.opts.manageTtlMs),
        });
        return { message: buildMessage({ ...this.envelope(delivery, delivery.toAddress), ...rendered }) };
      }
      default:
        return { cancel: `no composer for ${delivery.kind} deliveries` };
    }
  }
}
