import { randomUUID } from 'node:crypto';
import { DomainError } from '../errors.js';
import type { Repositories } from '../repositories/index.js';
import type { Subscriber, SignupWrite } from '../repositories/subscribers.js';
import type { MailQuota } from '../repositories/deliveries.js';
import type { Topic } from '../repositories/topics.js';
import type { ConsentForm, Frequency } from '../db/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { termsTextIn, type TermsService } from './terms.js';
import type { I18nService } from '../i18n/service.js';
import { normalizeEmail, type Links } from './links.js';
import type { Metrics } from '../metrics.js';
import type { PromptCountBuffer } from './prompt-counts.js';
import type { ActiveTopicCache } from './topic-cache.js';
import { GroupCommit } from './group-commit.js';
import { event, subscriberKey } from '../webhooks/index.js';

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  /** The request's Accept-Language header. */
  acceptLanguage?: string | null;
}

export interface SignupInput {
  email: string;
  topics: string[];
  frequency: Frequency;
  acceptTerms: boolean;
  termsVersion: number;
  sourceUrl?: string | null;
  formToken?: string | null;
  website?: string | null;
  form: 'widget' | 'hosted' | 'api';
  /** The language of the box or page the reader signed up in (else the request's Accept-Language, else the site's). */
  language?: string | null;
}

export interface LifecycleOptions {
  consentMode: 'checkbox' | 'statement';
  defaultTimeZone: string;
  confirmTtlMs: number;
  pendingTtlMs: number;
  confirmMailDailyLimit: number;
  declineQuietDays: number;
  /** Form tokens younger than this are a bot's (time trap); older than maxFormAgeMs are stale. */
  minFormAgeMs: number;
  maxFormAgeMs: number;
  mailDomain: string;
}

/** A confirmation link's request; `language` is its subscriber's (the page's language). */
export type ConfirmState =
  | { state: 'invalid' }
  | { state: 'expired'; topics: Topic[]; language?: string }
  | { state: 'used'; outcome: 'confirmed' | 'declined' | null; topics: Topic[]; subscriberId: number; language?: string }
  | { state: 'valid'; topics: Topic[]; frequency: Frequency; subscriberId: number; requestId: number; language?: string };

/** A withdrawal of consent (unsubscribe), whichever way it came: one event, counted by channel. */
export async function recordWithdrawal(r: Repositories, subscriberId: number, slugs: string[], form: ConsentForm, meta: RequestMeta, now: Date, metrics?: Metrics): Promise<void> {
  metrics?.unsubscribes.inc({ channel: form }, slugs.length);
  await r.consentEvents.record(
    { subscriberId, action: 'withdrawn', topics: slugs, termsVersion: null, termsSha256: null, consentText: null, consentMode: null, sourceUrl: null, form, ip: meta.ip, userAgent: meta.userAgent?.slice(0, 500) ?? null },
    now,
  );
  const email = (await r.subscribers.findById(subscriberId))?.email ?? null;
  await r.webhooks.emit([event('subscriber.unsubscribed', subscriberKey(subscriberId), { subscriberId, email, topics: slugs, channel: form })], now);
}

/** Message-ID of a delivery: fixed when queued, so a retry sends the same one. */
export function newMessageId(domain: string): string {
  return `<${randomUUID()}@${domain}>`;
}

/**
 * The reader's way in and out by mail: signup with consent, double opt-in, decline, and the
 * unsubscribe links. Each write is one transaction; mail is only queued here, never sent.
 * (The preference centre, export and erasure are PreferenceService's.)
 */
export class SubscriptionService {
  /** Signups under load are written many to a statement (see GroupCommit). */
  private readonly signups: GroupCommit<SignupWrite>;
  /** Confirmation and preference-link mails per address, each kind on its own. */
  private readonly mailQuota: MailQuota;

  constructor(
    private readonly repos: Repositories,
    private readonly terms: TermsService,
    private readonly links: Links,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: LifecycleOptions,
    private readonly counts: PromptCountBuffer,
    private readonly activeTopics: ActiveTopicCache,
    private readonly i18n: I18nService,
    private readonly metrics?: Metrics,
  ) {
    this.mailQuota = { count: opts.confirmMailDailyLimit, windowMs: 86_400_000 };
    // The signup statement and its webhook events commit together.
    const write = (items: readonly SignupWrite[]) =>
      repos.transaction(async (r) => {
        await r.subscribers.requestSignups(items, this.mailQuota);
        if (items.length > 0) await r.webhooks.emitSignups(items, items[0]!.now);
      });
    this.signups = new GroupCommit(write, {
      maxBatch: 100,
      concurrency: 2,
      key: (item) => item.normalized,
    });
  }

  /** Active topics by slug; unknown or archived ones are a 400 naming them. */
  async resolveTopics(slugs: string[], path = 'topics'): Promise<Topic[]> {
    const unique = [...new Set(slugs)];
    const active = await this.activeTopics.bySlug();
    const missing = unique.filter((s) => !active.has(s));
    if (missing.length > 0) {
      throw new DomainError(400, 'unknown_topics', `Unknown or archived topics: ${missing.join(', ')}`, [
        { path, message: `unknown or archived: ${missing.join(', ')}` },
      ]);
    }
    return unique.map((s) => active.get(s)!);
  }

  /**
   * A signup request. The caller answers 202 whatever happens here unless this throws a
   * client error: the answer never tells whether the address was known, active, declined or
   * suppressed. Bots (honeypot, time trap) are dropped silently.
   */
  async signup(input: SignupInput, meta: RequestMeta): Promise<void> {
    const now = this.clock.now();
    if (input.website) return;
    if (input.form !== 'api') {
      const age = input.formToken ? this.links.formTokenAge(input.formToken, now) : undefined;
      // Missing, forged or too fast: a bot, answered like anyone else and dropped.
      if (age === undefined || age < this.opts.minFormAgeMs) return;
      // Genuine but stale (a page left open for days): a person, told to reload.
      if (age > this.opts.maxFormAgeMs) {
        throw new DomainError(400, 'form_expired', 'This form has expired; please reload the page and try again', [{ path: 'formToken', message: 'has expired' }]);
      }
    }
    if (!input.acceptTerms) {
      throw new DomainError(400, 'terms_not_accepted', 'You must accept the Terms & Conditions to sign up', [
        { path: 'acceptTerms', message: 'must be accepted' },
      ]);
    }
    const terms = await this.terms.requireCurrent();
    if (input.termsVersion !== terms.version) {
      throw new DomainError(409, 'terms_outdated', 'The Terms & Conditions have changed; please review the current version', [], {
        currentVersion: terms.version,
      });
    }
    const topics = await this.resolveTopics(input.topics);
    const email = input.email.trim();
    const normalized = normalizeEmail(email);
    const language = this.i18n.choose({ query: input.language, acceptLanguage: meta.acceptLanguage });
    const words = await this.i18n.consent(language, this.opts.consentMode, terms);
    this.metrics?.signups.inc();
    await this.counts.add(now.toISOString().slice(0, 10), topics.map((t) => t.id), 'signup');
    await this.signups.submit({
      email,
      normalized,
      emailHash: this.links.signer.emailHash(normalized),
      timeZone: this.opts.defaultTimeZone,
      language,
      topicIds: topics.map((t) => t.id),
      frequency: input.frequency,
      consent: {
        topics: topics.map((t) => t.slug),
        termsVersion: words.termsVersion,
        termsSha256: words.termsSha256,
        termsLanguage: words.termsLanguage,
        consentText: words.consentText,
        consentMode: words.consentMode,
        sourceUrl: input.sourceUrl ?? null,
        form: input.form,
        ip: meta.ip,
        userAgent: meta.userAgent?.slice(0, 500) ?? null,
      },
      confirmExpiresAt: new Date(now.getTime() + this.opts.confirmTtlMs),
      messageId: newMessageId(this.opts.mailDomain),
      now,
    });
  }

  async confirmState(token: string): Promise<ConfirmState> {
    const id = this.links.parseConfirm(token);
    const req = id === undefined ? undefined : await this.repos.confirmationRequests.find(id);
    if (!req) return { state: 'invalid' };
    const topics = await this.repos.topics.findByIds(req.topicIds);
    const language = (await this.repos.subscribers.findById(req.subscriberId))?.language;
    if (req.usedAt) return { state: 'used', outcome: req.outcome, topics, subscriberId: req.subscriberId, language };
    if (req.expiresAt <= this.clock.now()) return { state: 'expired', topics, language };
    return { state: 'valid', topics, frequency: req.frequency, subscriberId: req.subscriberId, requestId: req.id, language };
  }

  /**
   * Confirms a request: its pending subscriptions become active. Single-use and idempotent: a
   * second confirmation changes nothing and reports the first outcome.
   */
  async confirm(token: string, meta: RequestMeta): Promise<ConfirmState> {
    return this.useRequest(token, 'confirmed', meta);
  }

  /** "No thanks, this wasn't me": pending subscriptions removed, no confirmation mail for a while. */
  async decline(token: string, meta: RequestMeta): Promise<ConfirmState> {
    return this.useRequest(token, 'declined', meta);
  }

  private async useRequest(token: string, outcome: 'confirmed' | 'declined', meta: RequestMeta): Promise<ConfirmState> {
    const id = this.links.parseConfirm(token);
    if (id === undefined) return { state: 'invalid' };
    const now = this.clock.now();
    return this.repos.transaction(async (r) => {
      const req = await r.confirmationRequests.find(id, true);
      if (!req) return { state: 'invalid' as const };
      const topics = await r.topics.findByIds(req.topicIds);
      const subscriber = await r.subscribers.findById(req.subscriberId);
      const language = subscriber?.language;
      if (req.usedAt) return { state: 'used' as const, outcome: req.outcome, topics, subscriberId: req.subscriberId, language };
      if (req.expiresAt <= now) return { state: 'expired' as const, topics, language };
      const terms = await r.terms.current();
      // the terms text in the reader's language is the one the confirmation page and mail link to
      const termsText = terms && termsTextIn(terms, language ?? terms.language);
      const changed =
        outcome === 'confirmed'
          ? await r.subscriptions.activate(req.subscriberId, req.topicIds, now)
          : await r.subscriptions.removePending(req.subscriberId, req.topicIds);
      if (outcome === 'declined') {
        await r.subscribers.updateSettings(req.subscriberId, { declinedUntil: new Date(now.getTime() + this.opts.declineQuietDays * 86_400_000) });
      }
      await r.confirmationRequests.use(req.id, outcome, now);
      this.metrics?.confirmations.inc({ outcome });
      await r.consentEvents.record(
        {
          subscriberId: req.subscriberId,
          action: outcome,
          topics: topics.filter((t) => changed.includes(t.id)).map((t) => t.slug),
          termsVersion: terms?.version ?? null,
          termsSha256: termsText?.bodySha256 ?? null,
          termsLanguage: termsText?.language ?? null,
          consentText: null,
          consentMode: null,
          sourceUrl: null,
          form: 'email',
          ip: meta.ip,
          userAgent: meta.userAgent?.slice(0, 500) ?? null,
        },
        now,
      );
      const data = { subscriberId: req.subscriberId, email: subscriber?.email ?? null, topics: topics.filter((t) => changed.includes(t.id)).map((t) => t.slug) };
      await r.webhooks.emit([event(outcome === 'confirmed' ? 'subscriber.confirmed' : 'subscriber.declined', subscriberKey(req.subscriberId), data)], now);
      return { state: 'used' as const, outcome, topics, subscriberId: req.subscriberId, language };
    });
  }

  /**
   * What an unsubscribe link points at, for its page: the topics it names (null: the whole list)
   * and, so the page can say plainly what the button ends, the topics still received.
   */
  async unsubscribeTarget(token: string): Promise<{ subscriber: Subscriber; topics: Topic[] | null; receiving: Topic[] } | 'expired' | undefined> {
    const link = this.links.parseUnsubscribe(token, this.clock.now());
    if (link === undefined || link === 'expired') return link;
    const subscriber = await this.repos.subscribers.findById(link.subscriberId);
    if (!subscriber) return undefined;
    const receivingIds = (await this.repos.subscriptions.forSubscriber(subscriber.id)).filter((s) => s.status === 'active' || s.status === 'pending').map((s) => s.topicId);
    const receiving = receivingIds.length > 0 ? await this.repos.topics.findByIds(receivingIds) : [];
    return { subscriber, topics: link.topicIds === null ? null : await this.repos.topics.findByIds(link.topicIds), receiving };
  }

  /**
   * Unsubscribes what the link names (some topics, or all), or everything when `all`.
   * Idempotent: a second call finds nothing active and records nothing.
   */
  async unsubscribe(token: string, opts: { all: boolean; channel: ConsentForm }, meta: RequestMeta): Promise<{ ok: boolean; expired?: boolean; all: boolean; changed: string[]; language?: string }> {
    const now = this.clock.now();
    const link = this.links.parseUnsubscribe(token, now);
    if (link === 'expired') return { ok: false, expired: true, all: false, changed: [] };
    if (!link) return { ok: false, all: false, changed: [] };
    const topicIds = opts.all ? null : link.topicIds;
    const all = topicIds === null;
    return this.repos.transaction(async (r) => {
      const subscriber = await r.subscribers.findById(link.subscriberId);
      if (!subscriber) return { ok: true, all, changed: [] }; // erased: nothing left to unsubscribe
      const changed = await r.subscriptions.unsubscribe(subscriber.id, topicIds, now);
      const language = subscriber.language;
      if (changed.length === 0) return { ok: true, all, changed: [], language };
      const slugs = (await r.topics.findByIds(changed)).map((t) => t.slug);
      await recordWithdrawal(r, subscriber.id, slugs, opts.channel, meta, now, this.metrics);
      return { ok: true, all, changed: slugs, language };
    });
  }

  /** Removes signups never confirmed within PENDING_TTL. */
  async purgeUnconfirmed(): Promise<{ expired: number; subscribersDeleted: number }> {
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - this.opts.pendingTtlMs);
    const result = await this.repos.subscribers.purgeUnconfirmed(cutoff, now);
    if (result.expired + result.subscribersDeleted > 0) this.logger.info(result, 'unconfirmed signups purged');
    return result;
  }
}
