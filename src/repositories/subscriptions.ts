import { sql, type Kysely } from 'kysely';
import type { Database, Frequency, SubscriptionStatus } from '../db/types.js';

export interface Subscription {
  id: number;
  subscriberId: number;
  topicId: number;
  topicSlug: string;
  topicName: string;
  topicStatus: 'active' | 'archived';
  status: SubscriptionStatus;
  frequency: Frequency;
  requestedAt: Date;
  confirmedAt: Date | null;
  unsubscribedAt: Date | null;
}

/** Subscriptions: one subscriber × topic each, with its status and frequency. */
export class SubscriptionsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** A subscriber's subscriptions with their topics, by topic name. */
  async forSubscriber(subscriberId: number): Promise<Subscription[]> {
    return this.db
      .selectFrom('subscriptions as s')
      .innerJoin('topics as t', 't.id', 's.topic_id')
      .select(['s.id', 's.subscriber_id as subscriberId', 's.topic_id as topicId', 't.slug as topicSlug', 't.name as topicName', 't.status as topicStatus', 's.status',
        's.frequency', 's.requested_at as requestedAt', 's.confirmed_at as confirmedAt', 's.unsubscribed_at as unsubscribedAt'])
      .where('s.subscriber_id', '=', subscriberId)
      .orderBy('t.name')
      .execute();
  }


  /** Activates pending subscriptions of these topics. Returns the topic ids activated. */
  async activate(subscriberId: number, topicIds: readonly number[], now: Date): Promise<number[]> {
    if (topicIds.length === 0) return [];
    const rows = await this.db
      .updateTable('subscriptions')
      .set({ status: 'active', confirmed_at: now, unsubscribed_at: null, updated_at: now })
      .where('subscriber_id', '=', subscriberId)
      .where('topic_id', 'in', topicIds)
      .where('status', '=', 'pending')
      .returning('topic_id')
      .execute();
    return rows.map((r) => r.topic_id);
  }

  /** Activates directly (preference centre: the address is already proven). */
  async activateDirect(subscriberId: number, topicId: number, frequency: Frequency, now: Date): Promise<void> {
    await this.db
      .insertInto('subscriptions')
      .values({ subscriber_id: subscriberId, topic_id: topicId, status: 'active', frequency, requested_at: now, confirmed_at: now })
      .onConflict((oc) =>
        oc.columns(['subscriber_id', 'topic_id']).doUpdateSet({ status: 'active', frequency, confirmed_at: now, unsubscribed_at: null, updated_at: now }).where('subscriptions.status', '!=', 'active'),
      )
      .execute();
  }

  /** Removes pending subscriptions of these topics (a decline). Returns the topic ids removed. */
  async removePending(subscriberId: number, topicIds: readonly number[]): Promise<number[]> {
    if (topicIds.length === 0) return [];
    const rows = await this.db
      .deleteFrom('subscriptions')
      .where('subscriber_id', '=', subscriberId)
      .where('topic_id', 'in', topicIds)
      .where('status', '=', 'pending')
      .returning('topic_id')
      .execute();
    return rows.map((r) => r.topic_id);
  }

  /** Unsubscribes active or pending subscriptions (all when topicIds is null). Returns topic ids changed. */
  async unsubscribe(subscriberId: number, topicIds: readonly number[] | null, now: Date): Promise<number[]> {
    if (topicIds !== null && topicIds.length === 0) return [];
    let q = this.db
      .updateTable('subscriptions')
      .set({ status: 'unsubscribed', unsubscribed_at: now, updated_at: now })
      .where('subscriber_id', '=', subscriberId)
      .where('status', 'in', ['active', 'pending']);
    if (topicIds !== null) q = q.where('topic_id', 'in', topicIds);
    return (await q.returning('topic_id').execute()).map((r) => r.topic_id);
  }

  async setFrequency(subscriberId: number, topicId: number, frequency: Frequency, now: Date): Promise<void> {
    await this.db
      .updateTable('subscriptions')
      .set({ frequency, updated_at: now })
      .where('subscriber_id', '=', subscriberId)
      .where('topic_id', '=', topicId)
      .execute();
  }

  async pending(subscriberId: number): Promise<{ topicIds: number[]; frequency: Frequency }> {
    const rows = await this.db
      .selectFrom('subscriptions')
      .select(['topic_id', 'frequency'])
      .where('subscriber_id', '=', subscriberId)
      .where('status', '=', 'pending')
      .orderBy('requested_at', 'desc')
      .execute();
    return { topicIds: rows.map((r) => r.topic_id), frequency: rows[0]?.frequency ?? 'daily' };
  }

  /** Confirmation time of every subscription of these subscribers, by subscriber then topic ("why you get this", in batch). */
  async confirmations(subscriberIds: readonly number[]): Promise<Map<number, Map<number, Date | null>>> {
    const out = new Map<number, Map<number, Date | null>>();
    if (subscriberIds.length === 0) return out;
    const rows = await this.db.selectFrom('subscriptions').select(['subscriber_id', 'topic_id', 'confirmed_at']).where('subscriber_id', 'in', subscriberIds).execute();
    for (const r of rows) {
      let m = out.get(r.subscriber_id);
      if (!m) out.set(r.subscriber_id, (m = new Map()));
      m.set(r.topic_id, r.confirmed_at);
    }
    return out;
  }

  /** Earliest confirmation among a subscriber's active subscriptions of these topics ("why you get this"). */
  async confirmedSince(subscriberId: number, topicIds: readonly number[]): Promise<Date | null> {
    if (topicIds.length === 0) return null;
    const r = await this.db
      .selectFrom('subscriptions')
      .select(sql<Date | null>`min(confirmed_at)`.as('at'))
      .where('subscriber_id', '=', subscriberId)
      .where('topic_id', 'in', topicIds)
      .executeTakeFirst();
    return r?.at ?? null;
  }
}
