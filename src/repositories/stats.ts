import { sql, type Kysely } from 'kysely';
import type { Database, DeliveryStatus, SubscriptionStatus } from '../db/types.js';

// Aggregates for the console's dashboard and GET /api/v1/stats. Days are UTC calendar days
// (prompt_counts.day is written from the UTC date); every figure is counted in the database,
// one grouped query per source, never by loading rows.

export const DAILY_FIGURES = ['shown', 'dismissed', 'signups', 'confirmations', 'declines', 'unsubscribes', 'sent', 'bounced'] as const;
export type DailyFigure = (typeof DAILY_FIGURES)[number];
export type DayFigures = { day: string } & Record<DailyFigure, number>;

export interface TopicFigures {
  topicId: number;
  slug: string;
  name: string;
  status: 'active' | 'archived';
  shown: number;
  dismissed: number;
  signups: number;
  confirmations: number;
  declines: number;
  unsubscribes: number;
  /** Subscriptions of the topic by status (now, not in the window). */
  subscribers: Record<SubscriptionStatus, number>;
}

export interface DigestRun {
  id: number;
  trigger: string;
  status: 'running' | 'finished' | 'failed' | 'skipped';
  startedAt: Date;
  finishedAt: Date | null;
  subscribersScanned: number;
  deliveriesQueued: number;
  error: string | null;
}

export type StatusCounts = Record<DeliveryStatus, number>;

const emptyStatusCounts = (): StatusCounts => ({ queued: 0, sending: 0, sent: 0, failed: 0, bounced: 0, cancelled: 0 });
const emptySubscriptionCounts = (): Record<SubscriptionStatus, number> => ({ pending: 0, active: 0, unsubscribed: 0, declined: 0, expired: 0 });

/** YYYY-MM-DD of a date in UTC. */
export const utcDay = (d: Date) => d.toISOString().slice(0, 10);

const CONSENT_FIGURE: Record<string, DailyFigure> = {
  requested: 'signups',
  confirmed: 'confirmations',
  declined: 'declines',
  withdrawn: 'unsubscribes',
};

export class StatsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * One row per UTC day from `from` to `to` inclusive (days without events are zeros).
   * shown/dismissed are per-topic prompt counts (a box offering two topics counts twice);
   * signups, confirmations, declines and unsubscribes are consent events (one per request,
   * whatever the number of topics); sent and bounced are digest deliveries. With `topicSlug`,
   * prompt and consent figures are that topic's, and sent/bounced are left at zero (a digest
   * belongs to a subscriber, not a topic).
   */
  async daily(from: string, to: string, topicSlug?: string): Promise<DayFigures[]> {
    const days = new Map<string, DayFigures>();
    for (let d = new Date(`${from}T00:00:00Z`); utcDay(d) <= to; d = new Date(d.getTime() + 86_400_000)) {
      const day = utcDay(d);
      days.set(day, { day, shown: 0, dismissed: 0, signups: 0, confirmations: 0, declines: 0, unsubscribes: 0, sent: 0, bounced: 0 });
    }
    const start = new Date(`${from}T00:00:00Z`);
    const end = new Date(new Date(`${to}T00:00:00Z`).getTime() + 86_400_000);

    let prompts = this.db
      .selectFrom('prompt_counts as p')
      .select([sql<string>`to_char(p.day, 'YYYY-MM-DD')`.as('day'), 'p.event', (eb) => eb.fn.sum<number>('p.count').as('n')])
      .where('p.day', '>=', from)
      .where('p.day', '<=', to)
      .where('p.event', 'in', ['shown', 'dismissed'])
      .groupBy(['p.day', 'p.event']);
    if (topicSlug) prompts = prompts.where('p.topic_id', '=', (eb) => eb.selectFrom('topics').select('id').where('slug', '=', topicSlug));
    for (const r of await prompts.execute()) {
      const row = days.get(r.day);
      if (row) row[r.event as 'shown' | 'dismissed'] += Number(r.n);
    }

    let consent = this.db
      .selectFrom('consent_events')
      .select([sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`.as('day'), 'action', (eb) => eb.fn.countAll<number>().as('n')])
      .where('created_at', '>=', start)
      .where('created_at', '<', end)
      .where('action', 'in', ['requested', 'confirmed', 'declined', 'withdrawn'])
      .groupBy([sql`1`, 'action']);
    if (topicSlug) consent = consent.where(sql<boolean>`${topicSlug} = ANY(topics)`);
    for (const r of await consent.execute()) {
      const row = days.get(r.day);
      const figure = CONSENT_FIGURE[r.action];
      if (row && figure) row[figure] += Number(r.n);
    }

    if (!topicSlug) {
      // Sent counts by when it was accepted; bounced by when the bounce was recorded.
      const deliveries = await sql<{ day: string; status: string; n: number }>`
        SELECT to_char(coalesce(sent_at, updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, status, count(*) AS n
        FROM deliveries
        WHERE kind = 'digest' AND status IN ('sent', 'bounced')
          AND coalesce(sent_at, updated_at) >= ${start} AND coalesce(sent_at, updated_at) < ${end}
        GROUP BY 1, 2`.execute(this.db);
      for (const r of deliveries.rows) {
        const row = days.get(r.day);
        if (row) row[r.status as 'sent' | 'bounced'] += Number(r.n);
      }
    }
    return [...days.values()];
  }

  /** Per topic over [from, to]: prompt and consent figures, and current subscription counts. */
  async perTopic(from: string, to: string): Promise<TopicFigures[]> {
    const start = new Date(`${from}T00:00:00Z`);
    const end = new Date(new Date(`${to}T00:00:00Z`).getTime() + 86_400_000);
    const topics = await this.db.selectFrom('topics').select(['id', 'slug', 'name', 'status']).orderBy('name').orderBy('id').execute();
    const byId = new Map<number, TopicFigures>();
    const bySlug = new Map<string, TopicFigures>();
    for (const t of topics) {
      const f: TopicFigures = { topicId: t.id, slug: t.slug, name: t.name, status: t.status, shown: 0, dismissed: 0, signups: 0, confirmations: 0, declines: 0, unsubscribes: 0, subscribers: emptySubscriptionCounts() };
      byId.set(t.id, f);
      bySlug.set(t.slug, f);
    }

    const prompts = await this.db
      .selectFrom('prompt_counts')
      .select(['topic_id', 'event', (eb) => eb.fn.sum<number>('count').as('n')])
      .where('day', '>=', from)
      .where('day', '<=', to)
      .groupBy(['topic_id', 'event'])
      .execute();
    for (const r of prompts) {
      const f = byId.get(r.topic_id);
      if (!f) continue;
      if (r.event === 'shown') f.shown += Number(r.n);
      else if (r.event === 'dismissed') f.dismissed += Number(r.n);
      else if (r.event === 'signup') f.signups += Number(r.n);
    }

    // Consent events name their topics by slug (they outlive topic renames and erasures).
    const consent = await sql<{ slug: string; action: string; n: number }>`
      SELECT t.slug, ce.action, count(*) AS n
      FROM consent_events ce CROSS JOIN LATERAL unnest(ce.topics) AS t(slug)
      WHERE ce.created_at >= ${start} AND ce.created_at < ${end}
        AND ce.action IN ('confirmed', 'declined', 'withdrawn')
      GROUP BY 1, 2`.execute(this.db);
    for (const r of consent.rows) {
      const f = bySlug.get(r.slug);
      const figure = CONSENT_FIGURE[r.action];
      if (f && figure && figure !== 'signups') (f as unknown as Record<string, number>)[figure] += Number(r.n);
    }

    const subs = await this.db
      .selectFrom('subscriptions')
      .select(['topic_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['topic_id', 'status'])
      .execute();
    for (const r of subs) {
      const f = byId.get(r.topic_id);
      if (f) f.subscribers[r.status] = Number(r.n);
    }
    return [...byId.values()];
  }

  /** Subscription counts of every topic by status, for the topic list. */
  async subscriptionCounts(): Promise<Map<number, Record<SubscriptionStatus, number>>> {
    const rows = await this.db
      .selectFrom('subscriptions')
      .select(['topic_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['topic_id', 'status'])
      .execute();
    const out = new Map<number, Record<SubscriptionStatus, number>>();
    for (const r of rows) {
      const c = out.get(r.topic_id) ?? emptySubscriptionCounts();
      c[r.status] = Number(r.n);
      out.set(r.topic_id, c);
    }
    return out;
  }

  /** What waits to be sent: queued and sending deliveries, how many are due, the oldest due. */
  async queueDepth(now: Date): Promise<{ queued: number; sending: number; due: number; oldestDueAt: Date | null }> {
    const r = await this.db
      .selectFrom('deliveries')
      .select([
        sql<number>`count(*) FILTER (WHERE status = 'queued')`.as('queued'),
        sql<number>`count(*) FILTER (WHERE status = 'sending')`.as('sending'),
        sql<number>`count(*) FILTER (WHERE status = 'queued' AND next_attempt_at <= ${now})`.as('due'),
        sql<Date | null>`min(next_attempt_at) FILTER (WHERE status = 'queued' AND next_attempt_at <= ${now})`.as('oldest'),
      ])
      .where('status', 'in', ['queued', 'sending'])
      .executeTakeFirstOrThrow();
    return { queued: Number(r.queued), sending: Number(r.sending), due: Number(r.due), oldestDueAt: r.oldest ? new Date(r.oldest) : null };
  }

  async deliveryCounts(): Promise<StatusCounts> {
    const rows = await this.db.selectFrom('deliveries').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    const out = emptyStatusCounts();
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }

  private mapRun(r: {
    id: number; trigger: string; status: DigestRun['status']; started_at: Date; finished_at: Date | null;
    subscribers_scanned: number; deliveries_queued: number; error: string | null;
  }): DigestRun {
    return {
      id: Number(r.id),
      trigger: r.trigger,
      status: r.status,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      subscribersScanned: r.subscribers_scanned,
      deliveriesQueued: r.deliveries_queued,
      error: r.error,
    };
  }

  private selectRuns() {
    return this.db
      .selectFrom('digest_runs')
      .select(['id', 'trigger', 'status', 'started_at', 'finished_at', 'subscribers_scanned', 'deliveries_queued', 'error']);
  }

  /** The newest scheduler run that did something (skipped ticks are not interesting here). */
  async lastRun(): Promise<DigestRun | undefined> {
    const r = await this.selectRuns().where('status', '!=', 'skipped').orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return r && this.mapRun(r);
  }

  /** The newest run that is still running or queued mail: what a progress bar follows. */
  async lastActiveRun(): Promise<DigestRun | undefined> {
    const r = await this.selectRuns()
      .where((eb) => eb.or([eb('status', '=', 'running'), eb('deliveries_queued', '>', 0)]))
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r && this.mapRun(r);
  }

  async run(id: number): Promise<DigestRun | undefined> {
    const r = await this.selectRuns().where('id', '=', id).executeTakeFirst();
    return r && this.mapRun(r);
  }

  async recentRuns(limit: number): Promise<DigestRun[]> {
    return (await this.selectRuns().orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute()).map((r) => this.mapRun(r));
  }

  /** The deliveries of one run by status, and how many it sent in the last minute (the rate). */
  async runProgress(runId: number, now: Date): Promise<{ counts: StatusCounts; sentLastMinute: number }> {
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('run_id', '=', runId)
      .groupBy('status')
      .execute();
    const counts = emptyStatusCounts();
    for (const r of rows) counts[r.status] = Number(r.n);
    const recent = await this.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('run_id', '=', runId)
      .where('status', '=', 'sent')
      .where('sent_at', '>', new Date(now.getTime() - 60_000))
      .executeTakeFirstOrThrow();
    return { counts, sentLastMinute: Number(recent.n) };
  }
}
