import { randomUUID } from 'node:crypto';
import { DomainError, notFound } from '../errors.js';
import type { Repositories } from '../repositories/index.js';
import type { Subscriber } from '../repositories/subscribers.js';
import type { Subscription } from '../repositories/subscriptions.js';
import type { ConsentEvent } from '../repositories/consent-events.js';
import type { Delivery, MailQuota } from '../repositories/deliveries.js';
import type { Topic } from '../repositories/topics.js';
import type { ConsentForm, Frequency } from '../db/types.js';
import type { Clock } from '../clock.js';
import type { Metrics } from '../metrics.js';
import type { TermsService } from './terms.js';
import type { I18nService } from '../i18n/service.js';
import type { Language } from '../i18n/languages.js';
import { normalizeEmail, type Links } from './links.js';
import { newMessageId, recordWithdrawal, type RequestMeta } from './subscriptions.js';
import type { QuietHours } from './attention.js';
import { event, subscriberKey } from '../webhooks/index.js';

export interface PreferencesView {
  subscriber: Subscriber;
  subscriptions: Subscription[];
  topics: Topic[];
}

export type Snooze =
  | { kind: 'none' }
  | { kind: 'keep' }
  | { kind: 'until'; until: Date }
  | { kind: 'days'; days: number }
  | { kind: 'indefinitely' };

export interface PreferenceChanges {
  /** Topic slugs that should be on; every other topic is turned off. */
  topics: string[];
  frequencies: Record<string, Frequency>;
  timeZone: string;
  digestHour: number;
  digestWeekday: number;
  /** Snoozing all alerts: for some days, to a date, until resumed, or not at all. */
  snooze: Snooze;
  /** Quiet hours for instant alerts ('default': the publisher's); left as they are when absent. */
  quiet?: 'default' | 'off' | QuietHours;
  /** Instant alerts a day (0: no cap; 'default': the publisher's); left as it is when absent. */
  instantDailyCap?: number | 'default';
  /** The language of the subscriber's mail and pages; left as it is when absent. */
  language?: Language;
  /** The language the page was shown in (what a consent to new topics records). */
  shownIn?: Language;
}

export interface PreferenceOptions {
  consentMode: 'checkbox' | 'statement';
  /** Preference-link mails per address per day (the same limit as confirmation mails). */
  manageMailDailyLimit: number;
  mailDomain: string;
}

/**
 * The subscriber's own controls behind a preference link: topics, frequency, time, pause,
 * unsubscribe from everything, download and erase their data; and the link itself by mail.
 * Each write is one transaction with its consent event.
 */
export class PreferenceService {
  private readonly mailQuota: MailQuota;

  constructor(
    private readonly repos: Repositories,
    private readonly links: Links,
    private readonly terms: TermsService,
    private readonly clock: Clock,
    private readonly opts: PreferenceOptions,
    private readonly i18n: I18nService,
    private readonly metrics?: Metrics,
  ) {
    this.mailQuota = { count: opts.manageMailDailyLimit, windowMs: 86_400_000 };
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
    const words = terms && (await this.i18n.consent(changes.shownIn ?? changes.language ?? this.i18n.choose({ subscriber: subscriber.language }), this.opts.consentMode, terms));
    await this.repos.transaction(async (r) => {
      const subs = await r.subscriptions.forSubscriber(subscriber.id);
      const on: string[] = [];
      const off: number[] = [];
      let frequencyChanged = false;
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
          frequencyChanged = true;
        }
      }
      const withdrawn = await r.subscriptions.unsubscribe(subscriber.id, off, now);
      await r.subscribers.updateSettings(subscriber.id, {
        timeZone: changes.timeZone,
        digestHour: changes.digestHour,
        digestWeekday: changes.digestWeekday,
        ...snoozeSettings(changes.snooze, now),
        ...attentionSettings(changes),
        ...(changes.language && { language: changes.language }),
      });
      if (withdrawn.length > 0) {
        await recordWithdrawal(r, subscriber.id, active.filter((t) => withdrawn.includes(t.id)).map((t) => t.slug), 'preferences', meta, now, this.metrics);
      }
      if (on.length > 0 || withdrawn.length > 0 || frequencyChanged) await emitSubscriptionChanged(r, subscriber, now);
      await r.consentEvents.record(
        {
          subscriberId: subscriber.id,
          action: 'preferences-changed',
          topics: on,
          termsVersion: on.length > 0 ? (words?.termsVersion ?? null) : null,
          termsSha256: on.length > 0 ? (words?.termsSha256 ?? null) : null,
          termsLanguage: on.length > 0 ? (words?.termsLanguage ?? null) : null,
          consentText: on.length > 0 ? (words?.consentText ?? null) : null,
          consentMode: on.length > 0 ? this.opts.consentMode : null,
          language: on.length > 0 ? (words?.language ?? null) : null,
          sourceUrl: null,
          form: 'preferences',
          ip: meta.ip,
          userAgent: meta.userAgent?.slice(0, 500) ?? null,
        },
        now,
      );
    });
  }

  /**
   * An admin (or the API) sets a reader's attention controls: quiet hours ('default' for the
   * publisher's), the instant cap (null for the publisher's), snooze, and the language of their
   * mail (a publisher fixing it for a reader who wrote in). Audited.
   */
  async setAttention(subscriberId: number, c: { quiet?: PreferenceChanges['quiet']; instantDailyCap?: number | 'default'; snooze?: Snooze; language?: Language }, actor: string): Promise<Subscriber> {
    const now = this.clock.now();
    return this.repos.transaction(async (r) => {
      const subscriber = await r.subscribers.findById(subscriberId);
      if (!subscriber) throw notFound(`Subscriber ${subscriberId}`);
      await r.subscribers.updateSettings(subscriberId, { ...(c.snooze && snoozeSettings(c.snooze, now)), ...attentionSettings(c), ...(c.language && { language: c.language }) });
      await r.audit.record({ actor, action: 'subscriber.attention', target: `subscriber:${subscriberId}`, details: { ...c } });
      return (await r.subscribers.findById(subscriberId))!;
    });
  }

  async unsubscribeAll(subscriber: Subscriber, channel: ConsentForm, meta: RequestMeta): Promise<string[]> {
    const now = this.clock.now();
    return this.repos.transaction(async (r) => {
      const changed = await r.subscriptions.unsubscribe(subscriber.id, null, now);
      const slugs = (await r.topics.findByIds(changed)).map((t) => t.slug);
      if (slugs.length > 0) await recordWithdrawal(r, subscriber.id, slugs, channel, meta, now, this.metrics);
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
      // Webhook events stored for this subscriber lose the address; the erasure's own has none.
      await r.webhooks.scrubAddress(subscriberKey(subscriber.id));
      await r.webhooks.emit([event('subscriber.erased', subscriberKey(subscriber.id), { subscriberId: subscriber.id })], now);
      await r.consentEvents.deleteForSubscriber(subscriber.id);
      await r.deliveries.anonymiseForSubscriber(subscriber.id);
      await r.digests.forgetSubscribers([subscriber.id]);
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
}

/** The pause columns a snooze choice sets (nothing for 'keep'). */
function snoozeSettings(s: Snooze, now: Date): { pausedIndefinitely?: boolean; pausedUntil?: Date | null } {
  switch (s.kind) {
    case 'keep':
      return {};
    case 'none':
      return { pausedIndefinitely: false, pausedUntil: null };
    case 'indefinitely':
      return { pausedIndefinitely: true, pausedUntil: null };
    case 'until':
      return { pausedIndefinitely: false, pausedUntil: s.until };
    case 'days':
      return { pausedIndefinitely: false, pausedUntil: new Date(now.getTime() + s.days * 86_400_000) };
  }
}

/** The attention columns: null stands for the publisher's default, start = end for no quiet hours. */
function attentionSettings(c: Pick<PreferenceChanges, 'quiet' | 'instantDailyCap'>): { quietStart?: number | null; quietEnd?: number | null; instantDailyCap?: number | null } {
  const out: { quietStart?: number | null; quietEnd?: number | null; instantDailyCap?: number | null } = {};
  if (c.quiet === 'default') Object.assign(out, { quietStart: null, quietEnd: null });
  else if (c.quiet === 'off') Object.assign(out, { quietStart: 0, quietEnd: 0 });
  else if (c.quiet) Object.assign(out, { quietStart: c.quiet.start, quietEnd: c.quiet.end });
  if (c.instantDailyCap !== undefined) out.instantDailyCap = c.instantDailyCap === 'default' ? null : c.instantDailyCap;
  return out;
}

/** 'subscription.changed' with every subscription as it is after the change. */
async function emitSubscriptionChanged(r: Repositories, subscriber: Subscriber, now: Date): Promise<void> {
  const after = await r.subscriptions.forSubscriber(subscriber.id);
  const slugOf = new Map((await r.topics.findByIds(after.map((s) => s.topicId))).map((t) => [t.id, t.slug]));
  const subscriptions = after.map((s) => ({ topic: slugOf.get(s.topicId) ?? String(s.topicId), status: s.status, frequency: s.frequency }));
  await r.webhooks.emit([event('subscription.changed', subscriberKey(subscriber.id), { subscriberId: subscriber.id, email: subscriber.email, subscriptions, source: 'preferences' })], now);
}
