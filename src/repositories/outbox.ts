import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';

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

/** The development mail outbox (dev_outbox): what the service "sent" when no SMTP relay is set. */
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
