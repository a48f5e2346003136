import type { Kysely } from 'kysely';
import type { ConsentAction, ConsentForm, Database } from '../db/types.js';

export interface ConsentEvent {
  id: number;
  subscriberId: number | null;
  action: ConsentAction;
  topics: string[];
  termsVersion: number | null;
  termsSha256: string | null;
  consentText: string | null;
  consentMode: 'checkbox' | 'statement' | null;
  sourceUrl: string | null;
  form: ConsentForm | null;
  ip: string | null;
  userAgent: string | null;
  /** The language the reader saw the consent text and terms in (null: before languages, or none shown). */
  language: string | null;
  /** The language of the terms text accepted (termsSha256 is its hash). */
  termsLanguage: string | null;
  createdAt: Date;
}

export type NewConsentEvent = Omit<ConsentEvent, 'id' | 'createdAt' | 'language' | 'termsLanguage'> & { language?: string | null; termsLanguage?: string | null };

/** Consent events: append-only (the database refuses updates); erasure may delete them. */
export class ConsentEventsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async record(e: NewConsentEvent, now: Date): Promise<void> {
    await this.db.insertInto('consent_events').values({
      subscriber_id: e.subscriberId,
      action: e.action,
      topics: e.topics,
      terms_version: e.termsVersion,
      terms_sha256: e.termsSha256,
      consent_text: e.consentText,
      consent_mode: e.consentMode,
      source_url: e.sourceUrl,
      form: e.form,
      ip: e.ip,
      user_agent: e.userAgent,
      language: e.language ?? null,
      terms_language: e.termsLanguage ?? null,
      created_at: now,
    }).execute();
  }

  async history(subscriberId: number): Promise<ConsentEvent[]> {
    // Aliased to the view's names: the rows are the events.
    return this.db
      .selectFrom('consent_events')
      .select(['id', 'subscriber_id as subscriberId', 'action', 'topics', 'terms_version as termsVersion', 'terms_sha256 as termsSha256', 'consent_text as consentText',
        'consent_mode as consentMode', 'source_url as sourceUrl', 'form', 'ip', 'user_agent as userAgent', 'language', 'terms_language as termsLanguage', 'created_at as createdAt'])
      .where('subscriber_id', '=', subscriberId)
      .orderBy('id')
      .execute();
  }


  /** Erasure deletes the consent payloads of a subscriber (DELETE is allowed; UPDATE is not). */
  async deleteForSubscriber(subscriberId: number): Promise<void> {
    await this.db.deleteFrom('consent_events').where('subscriber_id', '=', subscriberId).execute();
  }
}
