import { sql, type Kysely } from 'kysely';
import type { Database, PromptEvent, SuppressionReason } from '../db/types.js';

export interface TermsVersion {
  version: number;
  title: string;
  bodyMarkdown: string;
  bodySha256: string;
  placeholder: boolean;
  publishedBy: string | null;
  publishedAt: Date;
}

export class TermsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private select() {
    return this.db.selectFrom('terms_versions').select(['version', 'title', 'body_markdown', 'body_sha256', 'placeholder', 'published_by', 'published_at']);
  }

  private map(r: { version: number; title: string; body_markdown: string; body_sha256: string; placeholder: boolean; published_by: string | null; published_at: Date }): TermsVersion {
    return { version: r.version, title: r.title, bodyMarkdown: r.body_markdown, bodySha256: r.body_sha256, placeholder: r.placeholder, publishedBy: r.published_by, publishedAt: r.published_at };
  }

  async current(): Promise<TermsVersion | undefined> {
    const r = await this.select().orderBy('version', 'desc').limit(1).executeTakeFirst();
    return r && this.map(r);
  }

  async find(version: number): Promise<TermsVersion | undefined> {
    const r = await this.select().where('version', '=', version).executeTakeFirst();
    return r && this.map(r);
  }

  async list(): Promise<TermsVersion[]> {
    return (await this.select().orderBy('version', 'desc').execute()).map((r) => this.map(r));
  }

  /** Publishes the next version number; concurrent publishers meet at the primary key. */
  async publish(t: { title: string; bodyMarkdown: string; bodySha256: string; placeholder: boolean; publishedBy: string; now: Date }): Promise<TermsVersion> {
    const r = await this.db
      .insertInto('terms_versions')
      .values({
        version: sql<number>`(SELECT coalesce(max(version), 0) + 1 FROM terms_versions)`,
        title: t.title,
        body_markdown: t.bodyMarkdown,
        body_sha256: t.bodySha256,
        placeholder: t.placeholder,
        published_by: t.publishedBy,
        published_at: t.now,
      })
      .returning(['version', 'title', 'body_markdown', 'body_sha256', 'placeholder', 'published_by', 'published_at'])
      .executeTakeFirstOrThrow();
    return this.map(r);
  }
}

export class SuppressionsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async isSuppressed(emailHash: string): Promise<boolean> {
    return (await this.db.selectFrom('suppressions').select('email_hash').where('email_hash', '=', emailHash).executeTakeFirst()) !== undefined;
  }

  async add(emailHash: string, reason: SuppressionReason, note: string | null, now: Date): Promise<void> {
    await this.db.insertInto('suppressions').values({ email_hash: emailHash, reason, note, created_at: now }).onConflict((oc) => oc.column('email_hash').doNothing()).execute();
  }

  async remove(emailHash: string): Promise<boolean> {
    const r = await this.db.deleteFrom('suppressions').where('email_hash', '=', emailHash).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async list(limit: number): Promise<{ emailHash: string; reason: SuppressionReason; note: string | null; createdAt: Date }[]> {
    const rows = await this.db.selectFrom('suppressions').select(['email_hash', 'reason', 'note', 'created_at']).orderBy('created_at', 'desc').limit(limit).execute();
    return rows.map((r) => ({ emailHash: r.email_hash, reason: r.reason, note: r.note, createdAt: r.created_at }));
  }
}

export class PromptCountsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Adds aggregated counts in one statement. Keys are sorted so that two processes flushing at
   * once lock rows in the same order (no deadlock).
   */
  async add(rows: { day: string; topicId: number; event: PromptEvent; count: number }[]): Promise<void> {
    if (rows.length === 0) return;
    const sorted = [...rows].sort((a, b) => a.day.localeCompare(b.day) || a.topicId - b.topicId || a.event.localeCompare(b.event));
    await this.db
      .insertInto('prompt_counts')
      .values(sorted.map((r) => ({ day: r.day, topic_id: r.topicId, event: r.event, count: r.count })))
      .onConflict((oc) => oc.columns(['day', 'topic_id', 'event']).doUpdateSet({ count: sql<number>`prompt_counts.count + excluded.count` }))
      .execute();
  }

  async forDay(day: string): Promise<{ topicId: number; event: PromptEvent; count: number }[]> {
    const rows = await this.db.selectFrom('prompt_counts').select(['topic_id', 'event', 'count']).where('day', '=', day).execute();
    return rows.map((r) => ({ topicId: r.topic_id, event: r.event, count: r.count }));
  }
}

export interface OutboxMessage {
  id: number;
  deliveryId: number | null;
  messageId: string;
  envelopeFrom: string | null;
  recipient: string;
  subject: string;
  rawHeaders: string;
  html: string;
  text: string;
  createdAt: Date;
}

export class OutboxRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(m: Omit<OutboxMessage, 'id' | 'createdAt'>, now: Date): Promise<number> {
    const r = await this.db
      .insertInto('dev_outbox')
      .values({
        delivery_id: m.deliveryId,
        message_id: m.messageId,
        envelope_from: m.envelopeFrom,
        recipient: m.recipient,
        subject: m.subject,
        headers: '{}',
        raw_headers: m.rawHeaders,
        html: m.html,
        text: m.text,
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }

  private map(r: { id: number; delivery_id: number | null; message_id: string; envelope_from: string | null; recipient: string; subject: string; raw_headers: string; html: string; text: string; created_at: Date }): OutboxMessage {
    return { id: r.id, deliveryId: r.delivery_id, messageId: r.message_id, envelopeFrom: r.envelope_from, recipient: r.recipient, subject: r.subject, rawHeaders: r.raw_headers, html: r.html, text: r.text, createdAt: r.created_at };
  }

  async list(limit: number): Promise<OutboxMessage[]> {
    const rows = await this.db.selectFrom('dev_outbox').selectAll().orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => this.map(r));
  }

  async find(id: number): Promise<OutboxMessage | undefined> {
    const r = await this.db.selectFrom('dev_outbox').selectAll().where('id', '=', id).executeTakeFirst();
    return r && this.map(r);
  }
}
