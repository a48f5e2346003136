import { randomUUID } from 'node:crypto';
import { DomainError } from '../errors.js';
import type { Repositories } from '../repositories/index.js';
import type { Subscriber, SignupWrite } from '../repositories/subscribers.js';
import type { Subscription } from '../repositories/subscriptions.js';
import type { ConsentEvent } from '../repositories/consent-events.js';
import type { Delivery, MailQuota } from '../repositories/deliveries.js';
import type { Topic } from '../repositories/topics.js';
import type { ConsentForm, Frequency } from '../db/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { CONSENT_TEXT, type TermsService } from './terms.js';
import { normalizeEmail, type Links } from './links.js';
import type { Metrics } from '../metrics.js';
import type { PromptCountBuffer } from './prompt-counts.js';
import type { ActiveTopicCache } from './topic-cache.js';
import { GroupCommit } from './group-commit.js';

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
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

export type ConfirmState =
  | { state: 'invalid' }
  | { state: 'expired'; topics: Topic[] }
  | { state: 'used'; outcome: 'confirmed' | 'declined' | null; topics: Topic[]; subscriberId: number }
  | { state: 'valid'; topics: Topic[]; frequency: Frequency; subscriberId: number; requestId: number };

export interface PreferencesView {
  subscriber: Subscriber;
  subscriptions: Subscription[];
  topics: Topic[];
}

export interface PreferenceChanges {
  /** Topic slugs that should be on; every other topic is turned off. */
  topics: string[];
  frequencies: Record<string, Frequency>;
  timeZone: string;
  digestHour: number;
  digestWeekday: number;
  pause: 'none' | 'until' | 'indefinitely';
  pausedUntil: Date | null;
}

/** Message-ID of a delivery: fixed when queued, so a retry sends the same one. */
export function newMessageId(domain: string): string {
  return `<${randomUUID()}@${domain}>`;
}

/**
 * The reader's side: signup with consent, double opt-in, decline, unsubscribe, preferences,
 * export and erasure. Each write is one transaction; mail is only queued here, never sent.
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
    private readonly metrics?: Metrics,
  ) {
    this.mailQuota = { count: opts.confirmMailDailyLimit, windowMs: 86_400_000 };
    this.signups = new GroupCommit((items) => repos.subscribers.requestSignups(items, this.mailQuota), {
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
    this.metrics?.signups.inc();
    await this.counts.add(now.toISOString().slice(0, 10), topics.map((t) => t.id), 'signup');
    await this.signups.submit({
      email,
      normalized,
      emailHash: this.links.signer.emailHash(normalized),
      timeZone: this.opts.defaultTimeZone,
      topicIds: topics.map((t) => t.id),
      frequency: input.frequency,
      consent: {
        topics: topics.map((t) => t.slug),
        termsVersion: terms.version,
        termsSha256: terms.bodySha256,
        consentText: CONSENT_TEXT[this.opts.consentMode],
        consentMode: this.opts.consentMode,
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
    if (req.usedAt) return { state: 'used', outcome: req.outcome, topics, subscriberId: req.subscriberId };
    if (req.expiresAt <= this.clock.now()) return { state: 'expired', topics };
    return { state: 'valid', topics, frequency: req.frequency, subscriberId: req.subscriberId, requestId: req.id };
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
      if (req.usedAt) return { state: 'used' as const, outcome: req.outcome, topics, subscriberId: req.subscriberId };
      if (req.expiresAt <= now) return { state: 'expired' as const, topics };
      const terms = await r.terms.current();
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
          termsSha256: terms?.bodySha256 ?? null,
          consentText: null,
          consentMode: null,
          sourceUrl: null,
          form: 'email',
          ip: meta.ip,
          userAgent: meta.userAgent?.slice(0, 500) ?? null,
        },
        now,
      );
      return { state: 'used' as const, outcome, topics, subscriberId: req.subscriberId };
    });
  }

  /**
   * What an unsubscribe link points at, for its page: the topics it names (null: the whole list)
   * and, so the page can say plainly what the button ends, the topics still received.
   */
  async unsubscribeTarget(token: string): Promise<{ subscriber: Subscriber; topics: Topic[] | null; receiving: string[] } | 'expired' | undefined> {
    const link = this.links.parseUnsubscribe(token, this.clock.now());
    if (link === undefined || link === 'expired') return link;
    const subscriber = await this.repos.subscribers.findById(link.subscriberId);
    if (!subscriber) return undefined;
    const receiving = (await this.repos.subscriptions.forSubscriber(subscriber.id)).filter((s) => s.status === 'active' || s.status === 'pending').map((s) => s.topicName);
    return { subscriber, topics: link.topicIds === null ? null : await this.repos.topics.findByIds(link.topicIds), receiving };
  }

  /**
   * Unsubscribes what the link names (some topics, or all), or everything when `all`.
   * Idempotent: a second call finds nothing active and records nothing.
   */
  async unsubscribe(token: string, opts: { all: boolean; channel: ConsentForm }, meta: RequestMeta): Promise<{ ok: boolean; expired?: boolean; all: boolean; changed: string[] }> {
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
      if (changed.length === 0) return { ok: true, all, changed: [] };
      const slugs = (await r.topics.findByIds(changed)).map((t) => t.slug);
      await this.recordWithdrawal(r, subscriber.id, slugs, opts.channel, meta, now);
      return { ok: true, all, changed: slugs };
    });
  }

  private async recordWithdrawal(r: Repositories, subscriberId: number, slugs: string[], form: ConsentForm, meta: RequestMeta, now: Date) {
    this.metrics?.unsubscribes.inc({ channel: form }, slugs.length);
    await r.consentEvents.record(
      { subscriberId, action: 'withdrawn', topics: slugs, termsVersion: null, termsSha256: null, consentText: null, consentMode: null, sourceUrl: null, form, ip: meta.ip, userAgent: meta.userAgent?.slice(0, 500) ?? null },
      now,
    );
  }

  /** The subscriber a preference link belongs to; 'expired' or undefined when it does not work. */
  async manageSubscriber(token: string): Promise<Subscriber | 'expired' | undefined> {
    const id = this.links.parseManage(token, this.clock.now());
    if (id === undefined || id === 'expired') return id;
    return this.repos.subscribers.findById(id);
  }

  async preferences(subscriber: Subscriber): Promise<PreferencesView> {
    return {
      subscriber,
      subscriptions: await this.repos.subscriptions.forSubscriber(subscriber.id),
      topics: await this.repos.topics.list({ status: 'active' }),
    };
  }

  /**
   * Applies the preference form. The link was mailed to the address, so turning a topic on
   * here needs no second confirmation; every change is one consent event.
   */
  async updatePreferences(subscriber: Subscriber, changes: PreferenceChanges, meta: RequestMeta): Promise<void> {
    const now = this.clock.now();
    const wanted = new Set(changes.topics);
    const active = await this.repos.topics.list({ status: 'active' });
    const unknown = [...wanted].filter((s) => !active.some((t) => t.slug === s));
    if (unknown.length > 0) throw new DomainError(400, 'unknown_topics', `Unknown or archived topics: ${unknown.join(', ')}`, [{ path: 'topics', message: 'unknown or archived' }]);
    const terms = await this.terms.current();
    await this.repos.transaction(async (r) => {
      const subs = await r.subscriptions.forSubscriber(subscriber.id);
      const on: string[] = [];
      const off: number[] = [];
      for (const t of active) {
        const sub = subs.find((s) => s.topicId === t.id);
        const isOn = sub?.status === 'active';
        const frequency = changes.frequencies[t.slug] ?? sub?.frequency ?? 'daily';
        if (wanted.has(t.slug) && !isOn) {
          await r.subscriptions.activateDirect(subscriber.id, t.id, frequency, now);
          on.push(t.slug);
        } else if (!wanted.has(t.slug) && (isOn || sub?.status === 'pending')) {
          off.push(t.id);
        } else if (isOn && sub && sub.frequency !== frequency) {
          await r.subscriptions.setFrequency(subscriber.id, t.id, frequency, now);
        }
      }
      const withdrawn = await r.subscriptions.unsubscribe(subscriber.id, off, now);
      await r.subscribers.updateSettings(subscriber.id, {
        timeZone: changes.timeZone,
        digestHour: changes.digestHour,
        digestWeekday: changes.digestWeekday,
        pausedIndefinitely: changes.pause === 'indefinitely',
        pausedUntil: changes.pause === 'until' ? changes.pausedUntil : null,
      });
      if (withdrawn.length > 0) {
        await this.recordWithdrawal(r, subscriber.id, active.filter((t) => withdrawn.includes(t.id)).map((t) => t.slug), 'preferences', meta, now);
      }
      await r.consentEvents.record(
        {
          subscriberId: subscriber.id,
          action: 'preferences-changed',
          topics: on,
          termsVersion: on.length > 0 ? terms?.version ?? null : null,
          termsSha256: on.length > 0 ? terms?.bodySha256 ?? null : null,
          consentText: on.length > 0 ? CONSENT_TEXT[this.opts.consentMode] : null,
          consentMode: on.length > 0 ? this.opts.consentMode : null,
          sourceUrl: null,
          form: 'preferences',
          ip: meta.ip,
          userAgent: meta.userAgent?.slice(0, 500) ?? null,
        },
        now,
      );
    });
  }

  async unsubscribeAll(subscriber: Subscriber, channel: ConsentForm, meta: RequestMeta): Promise<string[]> {
    const now = this.clock.now();
    return this.repos.transaction(async (r) => {
      const changed = await r.subscriptions.unsubscribe(subscriber.id, null, now);
      const slugs = (await r.topics.findByIds(changed)).map((t) => t.slug);
      if (slugs.length > 0) await this.recordWithdrawal(r, subscriber.id, slugs, channel, meta, now);
      return slugs;
    });
  }

  /** Everything stored about a subscriber (the right of access). */
  async exportData(subscriberId: number): Promise<{ subscriber: Subscriber; subscriptions: Subscription[]; consentEvents: ConsentEvent[]; deliveries: Delivery[] } | undefined> {
    const subscriber = await this.repos.subscribers.findById(subscriberId);
    if (!subscriber) return undefined;
    return {
      subscriber,
      subscriptions: await this.repos.subscriptions.forSubscriber(subscriberId),
      consentEvents: await this.repos.consentEvents.history(subscriberId),
      deliveries: await this.repos.deliveries.listForSubscriber(subscriberId, 1000),
    };
  }

  /**
   * Erasure: personal data and consent payloads are deleted; what remains is a keyed hash of
   * the address in the suppression list (so it is never mailed again) and a payload-free
   * 'erased' event.
   */
  async erase(subscriberId: number, channel: ConsentForm, actor: string): Promise<boolean> {
    const now = this.clock.now();
    return this.repos.transaction(async (r) => {
      const subscriber = await r.subscribers.findById(subscriberId);
      if (!subscriber) return false;
      await r.suppressions.add(this.links.signer.emailHash(subscriber.emailNormalized), 'erased', null, now);
      await r.consentEvents.deleteForSubscriber(subscriber.id);
      await r.deliveries.anonymiseForSubscriber(subscriber.id);
      await r.subscribers.delete(subscriber.id);
      await r.consentEvents.record(
        { subscriberId: null, action: 'erased', topics: [], termsVersion: null, termsSha256: null, consentText: null, consentMode: null, sourceUrl: null, form: channel, ip: null, userAgent: null },
        now,
      );
      await r.audit.record({ actor, action: 'subscriber.erase', target: `subscriber:${subscriberId}` });
      return true;
    });
  }

  /** Mails a fresh preference link if the address is known; the caller answers the same either way. */
  async requestManageLink(email: string): Promise<void> {
    const now = this.clock.now();
    const normalized = normalizeEmail(email);
    const subscriber = await this.repos.subscribers.findByEmail(normalized);
    if (!subscriber) return;
    if (await this.repos.suppressions.isSuppressed(this.links.signer.emailHash(normalized))) return;
    await this.repos.transaction(async (r) => {
      if (!(await r.deliveries.takeMailQuota(subscriber.id, 'manage-link', now, this.mailQuota))) return;
      await r.deliveries.enqueue({
        kind: 'manage-link',
        subscriberId: subscriber.id,
        toAddress: subscriber.email,
        idempotencyKey: `manage-link:${subscriber.id}:${randomUUID()}`,
        payload: {},
        messageId: newMessageId(this.opts.mailDomain),
        now,
      });
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
