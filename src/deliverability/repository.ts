import { sql, type Kysely } from 'kysely';
import type { Database, InboundStatus } from '../db/types.js';

export interface InboundMessage {
  id: number;
  receivedAt: Date;
  mailFrom: string | null;
  rcptTo: string[];
  remoteAddress: string | null;
  size: number;
  status: InboundStatus;
  reportKind: 'dsn' | 'arf' | null;
  outcome: unknown;
  error: string | null;
  processedAt: Date | null;
}

export interface WindowFigures {
  /** Deliveries in the window: those sent within the window's time, or the last N if more. */
  deliveries: number;
  hard: number;
  complaints: number;
  since: Date | null;
}

export interface DayFigures {
  day: string;
  domain: string;
  deliveries: number;
  hard: number;
  soft: number;
  complaints: number;
}

const COLUMNS = ['id', 'received_at', 'mail_from', 'rcpt_to', 'remote_address', 'size', 'status', 'report_kind', 'outcome', 'error', 'processed_at'] as const;

/** Inbound mail (bounces, complaints) as received, and the reputation figures over deliveries and bounce events. */
export class DeliverabilityRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a message before the relay is told it was accepted; returns its id. */
  async insert(m: { receivedAt: Date; mailFrom: string | null; rcptTo: string[]; remoteAddress: string | null; raw: Buffer }): Promise<number> {
    const r = await this.db
      .insertInto('inbound_messages')
      .values({ received_at: m.receivedAt, mail_from: m.mailFrom, rcpt_to: m.rcptTo, remote_address: m.remoteAddress, size: m.raw.length, raw: m.raw })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(r.id);
  }

  /** Records how a received message was handled. Only a row still `received` changes (a second processor does nothing). */
  async finish(id: number, o: { status: Exclude<InboundStatus, 'received'>; reportKind: 'dsn' | 'arf' | null; outcome: unknown; error: string | null; now: Date }): Promise<boolean> {
    const r = await this.db
      .updateTable('inbound_messages')
      .set({ status: o.status, report_kind: o.reportKind, outcome: o.outcome === undefined ? null : JSON.stringify(o.outcome), error: o.error?.slice(0, 2000) ?? null, processed_at: o.now })
      .where('id', '=', id)
      .where('status', '=', 'received')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async list(statuses: readonly InboundStatus[], limit: number): Promise<InboundMessage[]> {
    const rows = await this.db.selectFrom('inbound_messages').select(COLUMNS).where('status', 'in', statuses).orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toMessage);
  }

  async find(id: number): Promise<(InboundMessage & { raw: Buffer }) | undefined> {
    const r = await this.db.selectFrom('inbound_messages').select([...COLUMNS, 'raw']).where('id', '=', id).executeTakeFirst();
    return r && { ...toMessage(r), raw: Buffer.from(r.raw) };
  }

  /** Messages left `received` since before `before` (a process died while reading them). */
  async stale(before: Date, limit: number): Promise<{ id: number; raw: Buffer; rcptTo: string[] }[]> {
    const rows = await this.db.selectFrom('inbound_messages').select(['id', 'raw', 'rcpt_to']).where('status', '=', 'received').where('received_at', '<', before).orderBy('id').limit(limit).execute();
    return rows.map((r) => ({ id: Number(r.id), raw: Buffer.from(r.raw), rcptTo: r.rcpt_to }));
  }

  /** Deletes messages handled before `before` with one of `statuses`; returns how many. */
  async purge(statuses: readonly InboundStatus[], before: Date): Promise<number> {
    const r = await this.db.deleteFrom('inbound_messages').where('status', 'in', statuses).where('processed_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async countByStatus(): Promise<Record<InboundStatus, number>> {
    const rows = await this.db.selectFrom('inbound_messages').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    const out: Record<InboundStatus, number> = { received: 0, processed: 0, unparseable: 0, ignored: 0 };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }

  /**
   * Hard bounces and complaints among the window's deliveries: those sent since `since`, or the
   * last `atLeast` sent if that is more (a quiet day still judges over a meaningful number).
   * Events count once per delivery, however many reports came for it.
   */
  async window(since: Date, atLeast: number): Promise<WindowFigures> {
    const { rows } = await sql<{ deliveries: string | number; hard: string | number; complaints: string | number; since: Date | null }>`
      WITH recent AS (
        SELECT id, sent_at FROM deliveries WHERE sent_at IS NOT NULL
        ORDER BY sent_at DESC
        LIMIT greatest(${atLeast}::int, (SELECT count(*) FROM deliveries WHERE sent_at >= ${since})::int)
      )
      SELECT
        (SELECT count(*) FROM recent) AS deliveries,
        (SELECT count(DISTINCT b.delivery_id) FROM bounce_events b JOIN recent r ON r.id = b.delivery_id WHERE b.kind = 'hard') AS hard,
        (SELECT count(DISTINCT b.delivery_id) FROM bounce_events b JOIN recent r ON r.id = b.delivery_id WHERE b.kind = 'complaint') AS complaints,
        (SELECT min(sent_at) FROM recent) AS since`.execute(this.db);
    const r = rows[0]!;
    return { deliveries: Number(r.deliveries), hard: Number(r.hard), complaints: Number(r.complaints), since: r.since ? new Date(r.since) : null };
  }

  /** Bounce events of a kind recorded after `after` (what happened since an admin resumed). */
  async eventsAfter(kind: 'hard' | 'complaint', after: Date): Promise<number> {
    const r = await this.db.selectFrom('bounce_events').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', kind).where('created_at', '>', after).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Per UTC day of sending and sending domain (the Message-ID's): deliveries and how many bounced or drew a complaint. */
  async days(since: Date): Promise<DayFigures[]> {
    const { rows } = await sql<{ day: string; domain: string; deliveries: string | number; hard: string | number; soft: string | number; complaints: string | number }>`
      SELECT to_char(d.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
        split_part(rtrim(d.message_id, '>'), '@', 2) AS domain,
        count(*) AS deliveries,
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM bounce_events b WHERE b.delivery_id = d.id AND b.kind = 'hard')) AS hard,
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM bounce_events b WHERE b.delivery_id = d.id AND b.kind = 'soft')) AS soft,
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM bounce_events b WHERE b.delivery_id = d.id AND b.kind = 'complaint')) AS complaints
      FROM deliveries d
      WHERE d.sent_at >= ${since}
      GROUP BY 1, 2
      ORDER BY 1 DESC, 2`.execute(this.db);
    return rows.map((r) => ({ day: r.day, domain: r.domain, deliveries: Number(r.deliveries), hard: Number(r.hard), soft: Number(r.soft), complaints: Number(r.complaints) }));
  }
}

function toMessage(r: { id: number; received_at: Date; mail_from: string | null; rcpt_to: string[]; remote_address: string | null; size: number; status: InboundStatus; report_kind: 'dsn' | 'arf' | null; outcome: unknown; error: string | null; processed_at: Date | null }): InboundMessage {
  return {
    id: Number(r.id),
    receivedAt: r.received_at,
    mailFrom: r.mail_from,
    rcptTo: r.rcpt_to,
    remoteAddress: r.remote_address,
    size: r.size,
    status: r.status,
    reportKind: r.report_kind,
    outcome: typeof r.outcome === 'string' ? JSON.parse(r.outcome) : r.outcome,
    error: r.error,
    processedAt: r.processed_at,
  };
}
