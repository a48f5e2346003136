import { sql, type Kysely } from 'kysely';
import type { Database, DeliveryKind, DeliveryStatus } from '../db/types.js';

export interface Delivery {
  id: number;
  kind: DeliveryKind;
  subscriberId: number | null;
  toAddress: string | null;
  idempotencyKey: string;
  status: DeliveryStatus;
  payload: unknown;
  messageId: string;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  smtpResponse: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

export type QuotaKind = 'confirmation' | 'manage-link';

/** At most `count` mails of a kind to one address in any `windowMs`. */
export interface MailQuota {
  count: number;
  windowMs: number;
}

/**
 * The ON CONFLICT arm of `INSERT INTO mail_quotas AS q (subscriber_id, kind, sent_at) … ARRAY[now]`
 * that takes one mail from the quota: it keeps the times still inside the window and adds now or,
 * with `count` of them inside it already, updates nothing, so RETURNING yields no row for that
 * address. ON CONFLICT DO UPDATE reads the row's newest committed version under its lock, not the
 * statement's snapshot: of two statements for one address at once, the second sees the first's
 * mail. (A count of deliveries could not: both counts read snapshots taken before either committed.)
 */
export function takeQuotaOnConflict(quota: MailQuota) {
  const recent = sql`ARRAY(SELECT t FROM unnest(q.sent_at) AS t WHERE t >= excluded.sent_at[1] - make_interval(secs => ${quota.windowMs / 1000}))`;
  return sql`ON CONFLICT (subscriber_id, kind) DO UPDATE SET sent_at = ${recent} || excluded.sent_at WHERE cardinality(${recent}) < ${quota.count}`;
}

export interface NewDelivery {
  kind: DeliveryKind;
  subscriberId: number | null;
  toAddress: string;
  idempotencyKey: string;
  payload: unknown;
  messageId: string;
  /** The service clock's now: queued at, and due from (unless nextAttemptAt says later). */
  now: Date;
  nextAttemptAt?: Date;
}

const COLUMNS = [
  'id', 'kind', 'subscriber_id', 'to_address', 'idempotency_key', 'status', 'payload', 'message_id',
  'attempts', 'next_attempt_at', 'last_error', 'smtp_response', 'created_at', 'sent_at',
] as const;

type Row = {
  id: number; kind: DeliveryKind; subscriber_id: number | null; to_address: string | null; idempotency_key: string;
  status: DeliveryStatus; payload: unknown; message_id: string; attempts: number; next_attempt_at: Date;
  last_error: string | null; smtp_response: string | null; created_at: Date; sent_at: Date | null;
};

function toDelivery(r: Row): Delivery {
  return {
    id: r.id,
    kind: r.kind,
    subscriberId: r.subscriber_id,
    toAddress: r.to_address,
    idempotencyKey: r.idempotency_key,
    status: r.status,
    payload: r.payload,
    messageId: r.message_id,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    smtpResponse: r.smtp_response,
    createdAt: r.created_at,
    sentAt: r.sent_at,
  };
}

export interface DeliveryListFilter {
  status?: DeliveryStatus;
  kind?: DeliveryKind;
  /** Keyset: only ids below this one (newest first). */
  beforeId?: number;
  limit: number;
}

export class DeliveriesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Queues a delivery once per idempotency key; returns undefined when the key exists. */
  async enqueue(d: NewDelivery): Promise<Delivery | undefined> {
    const r = await this.db
      .insertInto('deliveries')
      .values({
        kind: d.kind,
        subscriber_id: d.subscriberId,
        to_address: d.toAddress,
        idempotency_key: d.idempotencyKey,
        payload: JSON.stringify(d.payload),
        message_id: d.messageId,
        created_at: d.now,
        updated_at: d.now,
        next_attempt_at: d.nextAttemptAt ?? d.now,
        period_start: d.now.toISOString().slice(0, 10),
      })
      // The unique key is (idempotency_key, period_start): these are filed under the day queued.
      .onConflict((oc) => oc.columns(['idempotency_key', 'period_start']).doNothing())
      .returning(COLUMNS)
      .executeTakeFirst();
    return r && toDelivery(r as Row);
  }

  async countRecent(subscriberId: number, kind: DeliveryKind, since: Date): Promise<number> {
    const r = await this.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('subscriber_id', '=', subscriberId)
      .where('kind', '=', kind)
      .where('created_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * Takes one mail of `kind` from the address's quota: true, and the mail counted, when fewer
   * than `quota.count` were taken in the `quota.windowMs` before `now`; false otherwise. Run it
   * in the transaction that queues the mail, so a rollback gives the mail back.
   */
  async takeMailQuota(subscriberId: number, kind: QuotaKind, now: Date, quota: MailQuota): Promise<boolean> {
    const r = await sql<{ subscriber_id: number }>`
      INSERT INTO mail_quotas AS q (subscriber_id, kind, sent_at) VALUES (${subscriberId}, ${kind}, ARRAY[${now}::timestamptz])
      ${takeQuotaOnConflict(quota)}
      RETURNING subscriber_id`.execute(this.db);
    return r.rows.length === 1;
  }

  /**
   * Claims up to `limit` due deliveries for `owner` until `leaseUntil`. Guarantees: a row is held
   * by one worker at a time (FOR UPDATE SKIP LOCKED); rows whose lease expired (a worker died
   * mid-send) are claimable again, and go first; every claim counts an attempt.
   * Two statements rather than one `queued OR expired` scan: each walks its own partial index
   * in order and stops at `limit`, so a claim costs the same with 100 or 100,000 rows queued.
   */
  async claim(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<Delivery[]> {
    const take = async (due: 'expired' | 'queued', n: number) => {
      const ids = due === 'expired'
        ? this.db.selectFrom('deliveries').select('id').where('status', '=', 'sending').where('lease_expires_at', '<', now).orderBy('lease_expires_at').limit(n).forUpdate().skipLocked()
        : this.db.selectFrom('deliveries').select('id').where('status', '=', 'queued').where('next_attempt_at', '<=', now).orderBy('next_attempt_at').orderBy('id').limit(n).forUpdate().skipLocked();
      const rows = await this.db
        .updateTable('deliveries')
        .set({ status: 'sending', lease_owner: owner, lease_expires_at: leaseUntil, attempts: sql<number>`attempts + 1`, updated_at: now })
        .where('id', 'in', ids)
        .returning(COLUMNS)
        .execute();
      return rows.map((r) => toDelivery(r as Row));
    };
    const expired = await take('expired', limit);
    const queued = expired.length < limit ? await take('queued', limit - expired.length) : [];
    return [...expired, ...queued].sort((a, b) => a.id - b.id);
  }

  /** Records an outcome, only if this worker still holds the lease (a stale worker changes nothing). */
  async finish(
    id: number,
    owner: string,
    outcome: { status: 'sent' | 'failed' | 'bounced' | 'cancelled'; now: Date; smtpResponse?: string | null; error?: string | null },
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('deliveries')
      .set({
        status: outcome.status,
        lease_owner: null,
        lease_expires_at: null,
        smtp_response: outcome.smtpResponse ?? null,
        last_error: outcome.error ?? null,
        sent_at: outcome.status === 'sent' ? outcome.now : null,
        updated_at: outcome.now,
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'sending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Records many `sent` outcomes in one statement (the sender's hot path). Same guarantee as
   * finish(): a row changes only while this worker holds its lease; returns the rows changed.
   * The explicit id list lets the planner fetch the rows by primary key rather than join the
   * VALUES list against the whole table.
   */
  async finishSent(owner: string, now: Date, items: readonly { id: number; smtpResponse: string }[]): Promise<number> {
    if (items.length === 0) return 0;
    const values = sql.join(items.map((i) => sql`(${i.id}::bigint, ${i.smtpResponse}::text)`));
    const r = await sql`
      UPDATE deliveries AS d
      SET status = 'sent', lease_owner = NULL, lease_expires_at = NULL, smtp_response = v.smtp_response,
          last_error = NULL, sent_at = ${now}, updated_at = ${now}
      FROM (VALUES ${values}) AS v (id, smtp_response)
      WHERE d.id IN (${sql.join(items.map((i) => i.id))}) AND d.id = v.id AND d.lease_owner = ${owner} AND d.status = 'sending'`.execute(this.db);
    return Number(r.numAffectedRows ?? 0);
  }

  /** Puts a delivery back in the queue for a later attempt (transient failure). */
  async retryLater(id: number, owner: string, r: { now: Date; nextAttemptAt: Date; error: string }): Promise<boolean> {
    const res = await this.db
      .updateTable('deliveries')
      .set({ status: 'queued', lease_owner: null, lease_expires_at: null, next_attempt_at: r.nextAttemptAt, last_error: r.error, updated_at: r.now })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'sending')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Returns a claimed delivery to the queue without counting the attempt (the sender paused). */
  async release(id: number, owner: string, r: { now: Date; nextAttemptAt: Date }): Promise<void> {
    await this.db
      .updateTable('deliveries')
      .set({ status: 'queued', lease_owner: null, lease_expires_at: null, next_attempt_at: r.nextAttemptAt, attempts: sql<number>`greatest(attempts - 1, 0)`, updated_at: r.now })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'sending')
      .execute();
  }

  async listForSubscriber(subscriberId: number, limit = 200): Promise<Delivery[]> {
    const rows = await this.db.selectFrom('deliveries').select(COLUMNS).where('subscriber_id', '=', subscriberId).orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => toDelivery(r as Row));
  }

  async list(filter: DeliveryListFilter): Promise<Delivery[]> {
    let q = this.db.selectFrom('deliveries').select(COLUMNS);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    if (filter.beforeId) q = q.where('id', '<', filter.beforeId);
    const rows = await q.orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map((r) => toDelivery(r as Row));
  }

  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('deliveries').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /**
   * Erasure: deliveries keep their outcome for statistics, not the address, the content or the
   * link to the subscriber (no foreign key does that: migrations/20261203000400).
   */
  async anonymiseForSubscriber(subscriberId: number): Promise<void> {
    await this.db
      .updateTable('deliveries')
      .set({ status: 'cancelled', lease_owner: null, lease_expires_at: null })
      .where('subscriber_id', '=', subscriberId)
      .where('status', '=', 'queued')
      .execute();
    await this.db.updateTable('deliveries').set({ to_address: null, payload: '{}', subscriber_id: null }).where('subscriber_id', '=', subscriberId).execute();
  }

  async findByMessageId(messageId: string): Promise<{ id: number; toAddress: string | null; subscriberId: number | null } | undefined> {
    const id = messageId.startsWith('<') ? messageId : `<${messageId}>`;
    const r = await this.db.selectFrom('deliveries').select(['id', 'to_address', 'subscriber_id']).where('message_id', '=', id).executeTakeFirst();
    return r && { id: r.id, toAddress: r.to_address, subscriberId: r.subscriber_id };
  }

  async findById(id: number): Promise<{ id: number; toAddress: string | null; subscriberId: number | null } | undefined> {
    const r = await this.db.selectFrom('deliveries').select(['id', 'to_address', 'subscriber_id']).where('id', '=', id).executeTakeFirst();
    return r && { id: r.id, toAddress: r.to_address, subscriberId: r.subscriber_id };
  }

  async markBounced(deliveryId: number, detail: string, now: Date): Promise<void> {
    await this.db.updateTable('deliveries').set({ status: 'bounced', last_error: detail.slice(0, 1000), updated_at: now }).where('id', '=', deliveryId).where('status', 'in', ['sent', 'queued', 'failed']).execute();
  }

  /**
   * Puts failed deliveries back in the queue, due now: all failed ones, or those of `ids`.
   * Only rows still `failed` change (a concurrent retry or send is not disturbed); the attempt
   * count restarts so the sender's retry budget applies afresh. Returns the ids re-queued.
   */
  async requeueFailed(now: Date, ids?: readonly number[]): Promise<number[]> {
    if (ids && ids.length === 0) return [];
    let q = this.db
      .updateTable('deliveries')
      .set({ status: 'queued', next_attempt_at: now, attempts: 0, lease_owner: null, lease_expires_at: null, updated_at: now })
      .where('status', '=', 'failed')
      // An erased subscriber's deliveries have no address left to send to.
      .where('to_address', 'is not', null);
    if (ids) q = q.where('id', 'in', ids);
    return (await q.returning('id').execute()).map((r) => Number(r.id));
  }

  /** Deliveries waiting or in flight, by status (both read through partial indexes). */
  async countInFlight(): Promise<{ queued: number; sending: number }> {
    const { rows } = await sql<{ status: 'queued' | 'sending'; n: number }>`
      SELECT status, count(*)::int AS n FROM deliveries WHERE status IN ('queued', 'sending') GROUP BY status`.execute(this.db);
    return { queued: rows.find((r) => r.status === 'queued')?.n ?? 0, sending: rows.find((r) => r.status === 'sending')?.n ?? 0 };
  }

  /** When each of these subscribers' instant digests since `since` were queued (the daily cap). */
  async instantDigestTimes(subscriberIds: readonly number[], since: Date): Promise<{ subscriberId: number; createdAt: Date }[]> {
    if (subscriberIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('deliveries')
      .select(['subscriber_id', 'created_at'])
      .where('subscriber_id', 'in', subscriberIds)
      .where('kind', '=', 'digest')
      .where('created_at', '>=', since)
      .where('idempotency_key', 'like', 'digest:%:instant:%')
      .execute();
    return rows.map((r) => ({ subscriberId: r.subscriber_id!, createdAt: r.created_at }));
  }
}
