import type { Kysely } from 'kysely';
import type { Database, Frequency } from '../db/types.js';

/** Double opt-in requests: which topics one confirmation mail asks about, and its single use. */
export class ConfirmationRequestsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(r: { subscriberId: number; topicIds: number[]; frequency: Frequency; expiresAt: Date; now: Date }): Promise<number> {
    const row = await this.db
      .insertInto('confirmation_requests')
      .values({ subscriber_id: r.subscriberId, topic_ids: r.topicIds, frequency: r.frequency, expires_at: r.expiresAt, created_at: r.now })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async find(id: number, lock = false) {
    let q = this.db.selectFrom('confirmation_requests').select(['id', 'subscriber_id', 'topic_ids', 'frequency', 'expires_at', 'used_at', 'outcome', 'created_at']).where('id', '=', id);
    if (lock) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r && { id: r.id, subscriberId: r.subscriber_id, topicIds: r.topic_ids, frequency: r.frequency, expiresAt: r.expires_at, usedAt: r.used_at, outcome: r.outcome, createdAt: r.created_at };
  }

  async use(id: number, outcome: 'confirmed' | 'declined', now: Date): Promise<void> {
    await this.db.updateTable('confirmation_requests').set({ used_at: now, outcome }).where('id', '=', id).where('used_at', 'is', null).execute();
  }
}
