import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.js';

// The partitions of the history tables (migrations/20261203000200): which exist, creating the
// months ahead, and dropping expired ones. Partitions are monthly ranges named <table>_pYYYYMM,
// beside one DEFAULT partition (<table>_default) that catches rows outside them.

export type HistoryTable = 'deliveries' | 'sent_articles' | 'sent_stories' | 'consent_events';

export const HISTORY_TABLES: Record<HistoryTable, { key: string; type: 'date' | 'timestamptz' }> = {
  deliveries: { key: 'period_start', type: 'date' },
  sent_articles: { key: 'article_month', type: 'date' },
  sent_stories: { key: 'story_month', type: 'date' },
  consent_events: { key: 'created_at', type: 'timestamptz' },
};

export interface Partition {
  table: HistoryTable;
  name: string;
  /** First day of its month (YYYY-MM-01); null for the default partition. */
  month: string | null;
  /** The planner's row estimate (exact counts would read every row). */
  estimatedRows: number;
  bytes: number;
}

/** The first day of the month after `month` (both YYYY-MM-01). */
export function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}

/** The first day of `d`'s month in UTC, YYYY-MM-01. */
export function monthOf(d: Date): string {
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-01`;
}

const partitionName = (table: HistoryTable, month: string) => `${table}_p${month.slice(0, 7).replace('-', '')}`;

export class HistoryRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async partitions(table: HistoryTable): Promise<Partition[]> {
    const r = await sql<{ name: string; bound: string; rows: number; bytes: string }>`
      SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound, greatest(c.reltuples, 0)::float8 AS rows,
        pg_total_relation_size(c.oid)::text AS bytes
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = ${table}::regclass
      ORDER BY c.relname`.execute(this.db);
    return r.rows.map((p) => {
      // The name carries the month; the bound says it too, but a timestamptz bound is printed
      // in the session's time zone.
      const m = /_p(\d{4})(\d{2})$/.exec(p.name);
      return { table, name: p.name, month: p.bound === 'DEFAULT' || !m ? null : `${m[1]}-${m[2]}-01`, estimatedRows: Math.round(p.rows), bytes: Number(p.bytes) };
    });
  }

  /**
   * Creates the month's partition if it is missing. Rows the default partition caught for that
   * month move into it first (a partition cannot be attached over rows the default holds), all
   * in one transaction: it is created beside the table and attached, which locks the table less
   * than CREATE … PARTITION OF.
   */
  async createMonth(table: HistoryTable, month: string): Promise<{ created: boolean; moved: number }> {
    const name = partitionName(table, month);
    const { key, type } = HISTORY_TABLES[table];
    const lo = type === 'date' ? `'${month}'::date` : `'${month} 00:00:00+00'::timestamptz`;
    const hi = type === 'date' ? `'${nextMonth(month)}'::date` : `'${nextMonth(month)} 00:00:00+00'::timestamptz`;
    const bound = (v: string) => v.replace(/::\w+$/, '');
    return this.db.transaction().execute(async (trx) => {
      // Two workers creating the same month: the second waits, then finds it.
      await sql`SELECT pg_advisory_xact_lock(hashtext('history.partitions'))`.execute(trx);
      const exists = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_class WHERE relname = ${name} AND relkind IN ('r', 'p')`.execute(trx);
      if (exists.rows[0]!.n > 0) return { created: false, moved: 0 };
      await sql.raw(`CREATE TABLE ${name} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`).execute(trx);
      const moved = await sql.raw(
        `WITH gone AS (DELETE FROM ${table}_default WHERE ${key} >= ${lo} AND ${key} < ${hi} RETURNING *) INSERT INTO ${name} SELECT * FROM gone`,
      ).execute(trx);
      await sql.raw(`ALTER TABLE ${table} ATTACH PARTITION ${name} FOR VALUES FROM (${bound(lo)}) TO (${bound(hi)})`).execute(trx);
      return { created: true, moved: Number(moved.numAffectedRows ?? 0) };
    });
  }

  async dropPartition(table: HistoryTable, name: string): Promise<void> {
    if (!/^[a-z_]+_p\d{6}$/.test(name)) throw new Error(`not a monthly partition: ${name}`);
    await this.db.transaction().execute(async (trx) => {
      await sql.raw(`ALTER TABLE ${table} DETACH PARTITION ${name}`).execute(trx);
      await sql.raw(`DROP TABLE ${name}`).execute(trx);
    });
  }

  /** Deliveries in a partition the sender has yet to finish (queued, or being sent). */
  async unfinishedDeliveries(name: string): Promise<number> {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(name)} WHERE status IN ('queued', 'sending')`.execute(this.db);
    return r.rows[0]!.n;
  }

  /** Claims (sent_articles or sent_stories) in a partition that belong to deliveries still to send. */
  async claimsOfUnfinishedDeliveries(name: string): Promise<number> {
    const r = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM deliveries d JOIN ${sql.table(name)} c ON c.delivery_id = d.id
      WHERE d.status IN ('queued', 'sending')`.execute(this.db);
    return r.rows[0]!.n;
  }

  async countRows(name: string): Promise<number> {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(name)}`.execute(this.db);
    return r.rows[0]!.n;
  }

  /**
   * Consent events in a partition that the consent record still needs: those of a subscriber
   * who still has a subscription pending or active, or whose last consent event is younger than
   * `endedAfter`; an erasure's own payload-free event while younger than `endedAfter`.
   */
  async neededConsentEvents(name: string, endedAfter: Date): Promise<number> {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(name)} e WHERE ${needed(endedAfter)}`.execute(this.db);
    return r.rows[0]!.n;
  }

  /** Deletes a partition's consent events nothing needs any more (see neededConsentEvents). */
  async deleteUnneededConsentEvents(name: string, endedAfter: Date): Promise<number> {
    const r = await sql`DELETE FROM ${sql.table(name)} e WHERE NOT (${needed(endedAfter)})`.execute(this.db);
    return Number(r.numAffectedRows ?? 0);
  }
}

function needed(endedAfter: Date) {
  return sql<boolean>`(
    (e.subscriber_id IS NULL AND e.created_at >= ${endedAfter})
    OR EXISTS (SELECT 1 FROM subscriptions s WHERE s.subscriber_id = e.subscriber_id AND s.status IN ('pending', 'active'))
    OR EXISTS (SELECT 1 FROM consent_events later WHERE later.subscriber_id = e.subscriber_id AND later.created_at >= ${endedAfter})
  )`;
}
