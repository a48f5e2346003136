import type { SendMailOptions } from 'nodemailer';
import { buildMessage, type MailTemplates, type MailCommonData } from '../mail/index.js';
import type { Repositories } from '../repositories/index.js';
import type { Delivery } from '../repositories/deliveries.js';
import type { Subscriber } from '../repositories/subscribers.js';
import type { Clock } from '../clock.js';
import type { Links } from './links.js';
import type { DigestPayload } from './digests.js';
import type { DigestArticleRow } from '../repositories/articles.js';
import type { MailRecipient } from '../repositories/subscribers.js';
import type { Topic } from '../repositories/topics.js';
import type { DigestSection } from '../mail/index.js';
import type { MailAddress } from '../mail/message.js';
import type { I18nService } from '../i18n/service.js';
import type { Messages } from '../i18n/translator.js';
import { topicName } from '../repositories/topics.js';
import { feedbackId } from '../deliverability/feedback-id.js';

export interface ComposerOptions {
  baseUrl: string;
  /** The sender (MAIL_FROM); its address is also the envelope sender unless VERP is on. */
  from: MailAddress;
  publisherName: string;
  postalAddress: string;
  bounceDomain?: string;
  unsubscribeMailto?: string;
  listId: string;
  /** The signed VERP token of a delivery (src/deliverability/verp.ts); without it the bare id. */
  verpToken?: (deliveryId: number) => string;
  /** Gmail's SenderId, the last field of every Feedback-ID header. */
  feedbackSenderId?: string;
  manageTtlMs: number;
  maxItems: number;
}

export type Composition = { message: SendMailOptions } | { cancel: string };

/** What a recipient's mail needs of the subscriber: a full Subscriber fits. */
export type Recipient = Pick<Subscriber, 'id' | 'language' | 'timeZone'>;

/**
 * Everything the digests of one claimed batch read from the database, fetched with a handful
 * of queries for the whole batch instead of several per message (the sender's hot path).
 */
export interface ComposeBatch {
  recipients: Map<number, MailRecipient>;
  /** Claimed articles by delivery id. */
  articles: Map<number, DigestArticleRow[]>;
  topics: Map<number, Topic>;
  /** Subscription confirmation times by subscriber, then topic. */
  confirmations: Map<number, Map<number, Date | null>>;
  /** The sample articles of test digests, read once per batch when one is there. */
  testArticles?: Promise<DigestArticleRow[]>;
}

/** Prefetched topics and confirmations for renderDigest (the admin preview reads them itself). */
interface DigestLookups {
  topics: Map<number, Topic>;
  confirmations?: Map<number, Date | null>;
}

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
    private readonly i18n: I18nService,
    private readonly opts: ComposerOptions,
  ) {}

  /**
   * Reads, in one go, what composing this batch will need (see ComposeBatch). Deliveries whose
   * rows are gone simply have no entry: compose() cancels them as before.
   */
  async prepare(batch: readonly Delivery[]): Promise<ComposeBatch> {
    const subscriberIds = [...new Set(batch.flatMap((d) => (d.subscriberId === null || d.kind === 'test' ? [] : [d.subscriberId])))];
    const digests = batch.filter((d) => d.kind === 'digest' && d.subscriberId !== null);
    const topicIds = new Set<number>();
    for (const d of digests) for (const section of (d.payload as Partial<DigestPayload>).sections ?? []) topicIds.add(section.topicId);
    const digestSubscribers = [...new Set(digests.map((d) => d.subscriberId!))];
    const [recipients, articles, topics, confirmations] = await Promise.all([
      this.repos.subscribers.mailRecipients(subscriberIds),
      this.repos.digests.articlesForDeliveries(digests.map((d) => d.id)),
      topicIds.size > 0 ? this.repos.topics.findByIds([...topicIds]) : Promise.resolve([]),
      this.repos.subscriptions.confirmations(digestSubscribers),
    ]);
    const prepared: ComposeBatch = { recipients, articles, topics: new Map(topics.map((t) => [t.id, t])), confirmations };
    if (batch.some((d) => d.kind === 'test')) {
      prepared.testArticles = this.repos.articles.newestDigestRows(Math.min(5, this.opts.maxItems));
      prepared.testArticles.catch(() => {}); // awaited (and its error surfaced) by composeTest
    }
    return prepared;
  }

  /** The data every mail has, in the subscriber's language (with the publisher's own words). */
  private async common(subscriber: Recipient): Promise<MailCommonData & { messages: Messages }> {
    const messages = await this.i18n.messages(this.i18n.choose({ subscriber: subscriber.language }));
    return {
      lang: messages.lang,
      messages,
      timeZone: subscriber.timeZone,
      publisherName: this.opts.publisherName,
      postalAddress: this.opts.postalAddress,
      baseUrl: this.opts.baseUrl,
    };
  }

  private envelope(delivery: Delivery, to: string, topics?: readonly string[]) {
    const token = this.opts.verpToken?.(delivery.id);
    const headers: Record<string, string> = { 'X-Delivery-Id': String(delivery.id) };
    // A complaint report (ARF) returns the original headers but not the envelope: this names
    // the delivery, signed, as the return path does for a bounce.
    if (token) headers['X-Delivery-Ref'] = token;
    if (this.opts.feedbackSenderId) {
      const frequency = delivery.kind === 'digest' ? (delivery.payload as Partial<DigestPayload>).frequency : undefined;
      headers['Feedback-ID'] = feedbackId({ kind: delivery.kind, frequency, topics, senderId: this.opts.feedbackSenderId });
    }
    return { from: this.opts.from, to, messageId: delivery.messageId, deliveryId: token ?? String(delivery.id), bounceDomain: this.opts.bounceDomain, headers };
  }

  private listHeaders(unsubscribeUrl: string, messages?: Messages) {
    return {
      unsubscribeUrl,
      unsubscribeMailto: this.opts.unsubscribeMailto,
      listId: this.opts.listId,
      listName: messages ? messages.t('mail.listName', { publisherName: this.opts.publisherName }) : `${this.opts.publisherName} topic alerts`,
    };
  }

  private articleView(a: DigestArticleRow, alsoReportedBy: string[] | null = null) {
    return { title: a.title, url: a.url, summary: a.summary || null, publishedAt: a.publishedAt, alsoReportedBy };
  }

  /**
   * A section's entries: each story's first copy the delivery claimed, with the outlets of its
   * other claimed copies ("Also reported by"); a story none of whose copies it claimed is gone.
   */
  private entries(articleIds: readonly number[], copies: DigestPayload['copies'], articles: Map<number, DigestArticleRow>) {
    const out: { row: DigestArticleRow; alsoReportedBy: string[] | null }[] = [];
    for (const id of articleIds) {
      const group = [id, ...(copies?.[id] ?? [])].map((x) => articles.get(x)).filter((a): a is DigestArticleRow => a !== undefined);
      if (group.length === 0) continue;
      const [row, ...rest] = group;
      const others = [...new Set(rest.map((a) => a.source))].filter((s) => s !== row!.source);
      out.push({ row: row!, alsoReportedBy: others.length > 0 ? others : null });
    }
    return out;
  }

  /** A sample digest of the newest articles, to check how mail looks (admin "send test"). */
  private async composeTest(delivery: Delivery, to: string, batch?: ComposeBatch): Promise<Composition> {
    const now = this.clock.now();
    const articles = await (batch?.testArticles ?? this.repos.articles.newestDigestRows(Math.min(5, this.opts.maxItems)));
    const manage = `${this.opts.baseUrl}/manage`;
    const rendered = this.templates.render('digest', {
      lang: 'en',
      timeZone: 'UTC',
      publisherName: this.opts.publisherName,
      postalAddress: this.opts.postalAddress,
      baseUrl: this.opts.baseUrl,
      sections: [{ topic: { name: 'Test digest', slug: 'test', url: this.opts.baseUrl }, unsubscribeUrl: manage, articles: articles.map((a) => this.articleView(a)), moreCount: 0, moreUrl: this.opts.baseUrl }],
      articleCount: articles.length,
      topicNames: ['Test digest'],
      confirmedAt: now,
      preferencesUrl: manage,
      unsubscribeUrl: manage,
    });
    return { message: buildMessage({ ...this.envelope(delivery, to), ...rendered, subject: `[Test] ${rendered.subject}`, ...this.listHeaders(manage) }) };
  }

  /**
   * Renders a digest of `payload` limited to `articles` (those the delivery claimed: an article
   * or story claimed by another delivery meanwhile is left out), one entry per story, at most
   * maxItems, then "N more" per topic. Undefined when nothing is left to show.
   */
  async renderDigest(subscriber: Recipient, payload: DigestPayload, articles: Map<number, DigestArticleRow>, lookups?: DigestLookups) {
    const now = this.clock.now();
    const topics = lookups?.topics ?? new Map((await this.repos.topics.findByIds(payload.sections.map((s) => s.topicId))).map((t) => [t.id, t]));
    const common = await this.common(subscriber);
    let budget = this.opts.maxItems;
    const sections: DigestSection[] = [];
    const topicIds: number[] = [];
    let articleCount = 0;
    for (const section of payload.sections) {
      const topic = topics.get(section.topicId);
      const list = this.entries(section.articleIds, payload.copies, articles);
      if (!topic || list.length === 0) continue;
      const shown = list.slice(0, Math.max(0, budget));
      budget -= shown.length;
      articleCount += list.length;
      topicIds.push(topic.id);
      const topicUrl = `${this.opts.baseUrl}/topics/${topic.slug}`;
      sections.push({
        topic: { name: topicName(topic, common.lang), slug: topic.slug, url: topicUrl },
        unsubscribeUrl: this.links.unsubscribeUrl(subscriber.id, [topic.id], now),
        articles: shown.map((e) => this.articleView(e.row, e.alsoReportedBy)),
        moreCount: list.length - shown.length,
        moreUrl: topicUrl,
      });
    }
    if (sections.length === 0) return undefined;
    // The footer's link and List-Unsubscribe are the same token: signed once.
    const unsubscribeAll = this.links.unsubscribeUrl(subscriber.id, null, now);
    const rendered = this.templates.render('digest', {
      ...common,
      sections,
      articleCount,
      topicNames: sections.map((s) => s.topic.name),
      confirmedAt: lookups?.confirmations ? earliest(lookups.confirmations, topicIds) : await this.repos.subscriptions.confirmedSince(subscriber.id, topicIds),
      frequency: payload.frequency,
      preferencesUrl: this.links.preferencesUrl(subscriber.id, now),
      unsubscribeUrl: unsubscribeAll,
      preheader: sections[0]!.articles[0]?.title,
    });
    // List-Unsubscribe names the list (List-Id: every alert of this publisher), so the mail
    // client's one-click ends all of them (RFC 2369/8058: Gmail and Yahoo count mail after it
    // as spam). The per-topic links in the body stay per-topic.
    return { rendered, listUnsubscribe: unsubscribeAll, messages: common.messages, topics: sections.map((s) => s.topic.slug) };
  }

  private async composeDigest(delivery: Delivery, subscriber: Recipient, to: string, batch?: ComposeBatch): Promise<Composition> {
    const rows = batch ? (batch.articles.get(delivery.id) ?? []) : await this.repos.digests.deliveryArticles(delivery.id);
    const claimed = new Map(rows.map((a) => [a.id, a]));
    const lookups = batch && { topics: batch.topics, confirmations: batch.confirmations.get(subscriber.id) ?? new Map<number, Date | null>() };
    const digest = await this.renderDigest(subscriber, delivery.payload as DigestPayload, claimed, lookups);
    if (!digest) return { cancel: 'nothing left to send' };
    return { message: buildMessage({ ...this.envelope(delivery, to, digest.topics), ...digest.rendered, ...this.listHeaders(digest.listUnsubscribe, digest.messages) }) };
  }

  /** Composes one delivery; with `batch` (from prepare()) a digest needs no query of its own. */
  async compose(delivery: Delivery, batch?: ComposeBatch): Promise<Composition> {
    if (delivery.kind === 'test' && delivery.toAddress) return this.composeTest(delivery, delivery.toAddress, batch);
    if (!delivery.toAddress || delivery.subscriberId === null) return { cancel: 'recipient erased' };
    const subscriber = batch ? batch.recipients.get(delivery.subscriberId) : await this.repos.subscribers.findById(delivery.subscriberId);
    if (!subscriber) return { cancel: 'recipient erased' };
    const now = this.clock.now();
    switch (delivery.kind) {
      case 'confirmation': {
        const { requestId } = delivery.payload as { requestId: number };
        const req = await this.repos.confirmationRequests.find(requestId);
        if (!req || req.usedAt) return { cancel: 'confirmation already answered' };
        if (req.expiresAt <= now) return { cancel: 'confirmation expired before it could be sent' };
        const topics = await this.repos.topics.findByIds(req.topicIds);
        const terms = await this.repos.terms.current();
        const common = await this.common(subscriber);
        const rendered = this.templates.render('confirm', {
          ...common,
          topics: topics.map((t) => ({ name: topicName(t, common.lang), slug: t.slug })),
          frequency: req.frequency,
          confirmUrl: this.links.confirmUrl(req.id),
          declineUrl: this.links.declineUrl(req.id),
          expiresAt: req.expiresAt,
          termsVersion: terms?.version ?? '',
          termsUrl: `${this.opts.baseUrl}/terms${terms ? `/${terms.version}` : ''}?lang=${common.lang}`,
        });
        return { message: buildMessage({ ...this.envelope(delivery, delivery.toAddress, topics.map((t) => t.slug)), ...rendered }) };
      }
      case 'manage-link': {
        const preferencesUrl = this.links.preferencesUrl(subscriber.id, now);
        const unsubscribeUrl = this.links.unsubscribeUrl(subscriber.id, null, now);
        const rendered = this.templates.render('manage-link', {
          ...(await this.common(subscriber)),
          preferencesUrl,
          unsubscribeUrl,
          expiresAt: new Date(now.getTime() + this.opts.manageTtlMs),
        });
        return { message: buildMessage({ ...this.envelope(delivery, delivery.toAddress), ...rendered }) };
      }
      case 'digest':
        return this.composeDigest(delivery, subscriber, delivery.toAddress, batch);
      default:
        return { cancel: `no composer for ${delivery.kind} deliveries` };
    }
  }
}

/** Earliest confirmation among these topics' subscriptions (as SubscriptionsRepository.confirmedSince). */
function earliest(confirmations: Map<number, Date | null>, topicIds: readonly number[]): Date | null {
  let min: Date | null = null;
  for (const id of topicIds) {
    const at = confirmations.get(id);
    if (at && (!min || at < min)) min = at;
  }
  return min;
}
