import { sql, type Kysely } from 'kysely';
import type { Database, Frequency } from '../db/types.js';
import { takeQuotaOnConflict, type MailQuota } from './deliveries.js';
import type { NewConsentEvent } from './consent-events.js';

export interface Subscriber {
  id: number;
  email: string;
  emailNormalized: string;
  timeZone: string;
  digestHour: number;
  digestWeekday: number;
  language: string;
  pausedUntil: Date | null;
  pausedIndefinitely: boolean;
  declinedUntil: Date | null;
  /** Quiet hours, local (null: the publisher's default; start = end: none). */
  quietStart: number | null;
  quietEnd: number | null;
  /** Instant alerts a day (null: the publisher's default; 0: no cap). */
  instantDailyCap: number | null;
  /** Since when instant alerts over the cap wait for the next daily digest. */
  instantOverflowSince: Date | null;
  createdAt: Date;
}

/** One signup's write (see `requestSignups`). */
export interface SignupWrite {
  email: string;
  normalized: string;
  emailHash: string;
  timeZone: string;
  /**
   * The language of the box the reader signed up in: the consent's, and the subscriber's unless
   * they already receive alerts (a reader who does keeps the language they chose).
   */
  language: string;
  topicIds: number[];
  frequency: Frequency;
  consent: Omit<NewConsentEvent, 'subscriberId' | 'action' | 'language'>;
  confirmExpiresAt: Date;
  messageId: string;
  now: Date;
}

export const SUBSCRIBER_COLUMNS = [
  'id', 'email', 'email_normalized', 'time_zone', 'digest_hour', 'digest_weekday', 'language',
  'paused_until', 'paused_indefinitely', 'declined_until', 'quiet_start', 'quiet_end', 'instant_daily_cap', 'instant_overflow_since', 'created_at',
] as const;

type SubscriberRow = {
  id: number; email: string; email_normalized: string; time_zone: string; digest_hour: number; digest_weekday: number;
  language: string; paused_until: Date | null; paused_indefinitely: boolean; declined_until: Date | null;
  quiet_start: number | null; quiet_end: number | null; instant_daily_cap: number | null; instant_overflow_since: Date | null; created_at: Date;
};

export function toSubscriber(r: SubscriberRow): Subscriber {
  return {
    id: r.id,
    email: r.email,
    emailNormalized: r.email_normalized,
    timeZone: r.time_zone,
    digestHour: r.digest_hour,
    digestWeekday: r.digest_weekday,
    language: r.language,
    pausedUntil: r.paused_until,
    pausedIndefinitely: r.paused_indefinitely,
    declinedUntil: r.declined_until,
    quietStart: r.quiet_start,
    quietEnd: r.quiet_end,
    instantDailyCap: r.instant_daily_cap,
    instantOverflowSince: r.instant_overflow_since,
    createdAt: r.created_at,
  };
}

export interface SubscriberSettings {
  timeZone?: string;
  digestHour?: number;
  digestWeekday?: number;
  pausedUntil?: Date | null;
  pausedIndefinitely?: boolean;
  declinedUntil?: Date | null;
  quietStart?: number | null;
  quietEnd?: number | null;
  instantDailyCap?: number | null;
  language?: string;
}

export interface MailRecipient {
  id: number;
  language: string;
  timeZone: string;
}

/** Subscribers (one row per address and its settings), and the signup statement that writes them. */
export class SubscribersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async findById(id: number): Promise<Subscriber | undefined> {
    const r = await this.db.selectFrom('subscribers').select(SUBSCRIBER_COLUMNS).where('id', '=', id).executeTakeFirst();
    return r && toSubscriber(r);
  }

  async findByEmail(normalized: string): Promise<Subscriber | undefined> {
    const r = await this.db.selectFrom('subscribers').select(SUBSCRIBER_COLUMNS).where('email_normalized', '=', normalized).executeTakeFirst();
    return r && toSubscriber(r);
  }

  /**
   * The subscriber for an address, created if new. Concurrent signups of one address meet at
   * the unique constraint; the loser reads the winner's row. Locks the row for the transaction
   * so two requests for one address are serialised.
   */
  async upsertByEmail(email: string, normalized: string, defaults: { timeZone: string }): Promise<{ subscriber: Subscriber; created: boolean }> {
    const inserted = await this.db
      .insertInto('subscribers')
      .values({ email, email_normalized: normalized, time_zone: defaults.timeZone })
      .onConflict((oc) => oc.column('email_normalized').doNothing())
      .returning(SUBSCRIBER_COLUMNS)
      .executeTakeFirst();
    if (inserted) return { subscriber: toSubscriber(inserted), created: true };
    const existing = await this.db
      .selectFrom('subscribers')
      .select(SUBSCRIBER_COLUMNS)
      .where('email_normalized', '=', normalized)
      .forUpdate()
      .executeTakeFirstOrThrow();
    return { subscriber: toSubscriber(existing), created: false };
  }

  /**
   * Signup writes, many in one statement (one round trip, atomic; see GroupCommit): for each,
   * the subscriber (if new), pending subscriptions for the topics not already active, the
   * 'requested' consent event, and — when anything awaits confirmation, the address has not
   * declined recently and is under its daily limit of confirmation mails (`takeQuotaOnConflict`,
   * safe when two statements for one address run at once) — a confirmation request and its
   * queued delivery. A suppressed address writes nothing at all. The items'
   * normalised addresses must be distinct (ON CONFLICT cannot touch one row twice in a
   * statement). Prepared: planning this statement cost as much as running it.
   */
  async requestSignups(items: readonly SignupWrite[], mailQuota: MailQuota): Promise<void> {
    if (items.length === 0) return;
    // in address order: two batches in flight at once then take their row locks in one order
    // (no deadlock between them when they share an address)
    const sorted = [...items].sort((a, b) => (a.normalized < b.normalized ? -1 : a.normalized > b.normalized ? 1 : 0));
    const rows = sorted.map((p) => ({
      email: p.email,
      normalized: p.normalized,
      email_hash: p.emailHash,
      time_zone: p.timeZone,
      language: p.language,
      frequency: p.frequency,
      topic_ids: p.topicIds,
      topics: p.consent.topics,
      terms_version: p.consent.termsVersion,
      terms_sha256: p.consent.termsSha256,
      terms_language: p.consent.termsLanguage ?? null,
      consent_text: p.consent.consentText,
      consent_mode: p.consent.consentMode,
      source_url: p.consent.sourceUrl,
      form: p.consent.form,
      ip: p.consent.ip,
      user_agent: p.consent.userAgent,
      expires_at: p.confirmExpiresAt,
      message_id: p.messageId,
      now: p.now,
    }));
    await sql`/* prepare:signups */
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(
          email text, normalized text, email_hash text, time_zone text, language text, frequency text, topic_ids int[], topics text[],
          terms_version int, terms_sha256 text, terms_language text, consent_text text, consent_mode text, source_url text, form text,
          ip text, user_agent text, expires_at timestamptz, message_id text, now timestamptz)
      ), sub AS (
        INSERT INTO subscribers (email, email_normalized, time_zone, language, created_at, updated_at)
        SELECT i.email, i.normalized, i.time_zone, i.language, i.now, i.now FROM input i
        WHERE NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.email_hash = i.email_hash)
        ON CONFLICT (email_normalized) DO UPDATE SET updated_at = subscribers.updated_at,
          language = CASE WHEN EXISTS (SELECT 1 FROM subscriptions a WHERE a.subscriber_id = subscribers.id AND a.status = 'active')
            THEN subscribers.language ELSE excluded.language END
        RETURNING id, email AS to_address, email_normalized, declined_until
      ), item AS (
        SELECT sub.id, sub.to_address, sub.declined_until, i.* FROM sub JOIN input i ON i.normalized = sub.email_normalized
      ), pending AS (
        INSERT INTO subscriptions (subscriber_id, topic_id, status, frequency, requested_at, updated_at)
        SELECT item.id, t, 'pending', item.frequency, item.now, item.now FROM item, unnest(item.topic_ids) AS t
        ON CONFLICT (subscriber_id, topic_id) DO UPDATE
          SET status = 'pending', frequency = excluded.frequency, requested_at = excluded.requested_at, updated_at = excluded.updated_at
          WHERE subscriptions.status <> 'active'
        RETURNING subscriber_id, topic_id
      ), consent AS (
        INSERT INTO consent_events (subscriber_id, action, topics, terms_version, terms_sha256, terms_language, consent_text, consent_mode, source_url, form, ip, user_agent, language, created_at)
        SELECT item.id, 'requested', item.topics, item.terms_version, item.terms_sha256, item.terms_language, item.consent_text, item.consent_mode, item.source_url, item.form, item.ip, item.user_agent, item.language, item.now
        FROM item
      ), asked AS (
        SELECT subscriber_id, array_agg(topic_id ORDER BY topic_id) AS topic_ids FROM pending GROUP BY subscriber_id
      ), quota AS (
        INSERT INTO mail_quotas AS q (subscriber_id, kind, sent_at)
        SELECT item.id, 'confirmation', ARRAY[item.now] FROM item JOIN asked ON asked.subscriber_id = item.id
        WHERE item.declined_until IS NULL OR item.declined_until <= item.now
        ${takeQuotaOnConflict(mailQuota)}
        RETURNING subscriber_id
      ), request AS (
        INSERT INTO confirmation_requests (subscriber_id, topic_ids, frequency, expires_at, created_at)
        SELECT item.id, asked.topic_ids, item.frequency, item.expires_at, item.now
        FROM item JOIN asked ON asked.subscriber_id = item.id JOIN quota ON quota.subscriber_id = item.id
        RETURNING id, subscriber_id
      )
      INSERT INTO deliveries (kind, subscriber_id, to_address, idempotency_key, payload, message_id, created_at, updated_at, next_attempt_at, period_start)
      SELECT 'confirmation', item.id, item.to_address, 'confirmation:' || request.id, jsonb_build_object('requestId', request.id), item.message_id, item.now, item.now, item.now, (item.now AT TIME ZONE 'UTC')::date
      FROM request JOIN item ON item.id = request.subscriber_id`.execute(this.db);
  }

  async updateSettings(id: number, s: SubscriberSettings): Promise<void> {
    await this.db
      .updateTable('subscribers')
      .set({
        ...(s.timeZone !== undefined && { time_zone: s.timeZone }),
        ...(s.digestHour !== undefined && { digest_hour: s.digestHour }),
        ...(s.digestWeekday !== undefined && { digest_weekday: s.digestWeekday }),
        ...(s.pausedUntil !== undefined && { paused_until: s.pausedUntil }),
        ...(s.pausedIndefinitely !== undefined && { paused_indefinitely: s.pausedIndefinitely }),
        ...(s.declinedUntil !== undefined && { declined_until: s.declinedUntil }),
        ...(s.quietStart !== undefined && { quiet_start: s.quietStart }),
        ...(s.quietEnd !== undefined && { quiet_end: s.quietEnd }),
        ...(s.instantDailyCap !== undefined && { instant_daily_cap: s.instantDailyCap }),
        ...(s.language !== undefined && { language: s.language }),
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', id)
      .execute();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('subscribers').where('id', '=', id).execute();
  }

  /** Case-insensitive search by address fragment, for the admin. */
  async search(fragment: string, limit: number): Promise<Subscriber[]> {
    const pattern = `%${fragment.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await this.db.selectFrom('subscribers').select(SUBSCRIBER_COLUMNS).where('email_normalized', 'like', pattern).orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toSubscriber);
  }


  /**
   * Expires pending subscriptions requested before `cutoff` and deletes the subscribers left with
   * nothing (no live or once-confirmed subscription). A subscriber who declined is kept until
   * their quiet period ends: the row carries `declined_until` and the decline's consent event,
   * and deleting it would let a new signup mail that address again at once.
   */
  async purgeUnconfirmed(cutoff: Date, now: Date): Promise<{ expired: number; subscribersDeleted: number }> {
    const expired = await this.db
      .updateTable('subscriptions')
      .set({ status: 'expired', updated_at: sql<Date>`now()` })
      .where('status', '=', 'pending')
      .where('requested_at', '<', cutoff)
      .executeTakeFirst();
    const orphans = this.db
      .selectFrom('subscribers as sub')
      .select('sub.id')
      .where('sub.created_at', '<', cutoff)
      .where((eb) => eb.or([eb('sub.declined_until', 'is', null), eb('sub.declined_until', '<=', now)]))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb.selectFrom('subscriptions as s').select('s.id').whereRef('s.subscriber_id', '=', 'sub.id').where((e) => e.or([e('s.status', 'in', ['active', 'pending']), e('s.confirmed_at', 'is not', null)])),
          ),
        ),
      );
    await this.db.deleteFrom('consent_events').where('subscriber_id', 'in', orphans).execute();
    await this.db.deleteFrom('deliveries').where('subscriber_id', 'in', orphans).execute();
    // No foreign keys on the history tables (migrations/20261203000400): their claims go too.
    await this.db.deleteFrom('sent_articles').where('subscriber_id', 'in', orphans).execute();
    await this.db.deleteFrom('sent_stories').where('subscriber_id', 'in', orphans).execute();
    const deleted = await this.db.deleteFrom('subscribers').where('id', 'in', orphans).executeTakeFirst();
    return { expired: Number(expired.numUpdatedRows), subscribersDeleted: Number(deleted.numDeletedRows) };
  }

  /** What rendering needs of each recipient (language, time zone), for a batch of subscriber ids. */
  async mailRecipients(subscriberIds: readonly number[]): Promise<Map<number, MailRecipient>> {
    if (subscriberIds.length === 0) return new Map();
    const rows = await this.db.selectFrom('subscribers').select(['id', 'language', 'time_zone']).where('id', 'in', subscriberIds).execute();
    return new Map(rows.map((r) => [r.id, { id: r.id, language: r.language, timeZone: r.time_zone }]));
  }

  /** Instant alerts over these subscribers' caps wait for their next daily digest from `now` (kept if already set). */
  async markInstantOverflow(ids: readonly number[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('subscribers').set({ instant_overflow_since: now }).where('id', 'in', ids).where('instant_overflow_since', 'is', null).execute();
  }

  /** The held instant alerts went out in a daily digest. */
  async clearInstantOverflow(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('subscribers').set({ instant_overflow_since: null }).where('id', 'in', ids).execute();
  }
}
