import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';

/** Bounce and complaint events, by address hash (what the soft-bounce rule counts). */
export class BouncesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async record(e: { emailHash: string; deliveryId: number | null; kind: 'hard' | 'soft' | 'complaint'; detail: string | null; now: Date }): Promise<void> {
    await this.db.insertInto('bounce_events').values({ email_hash: e.emailHash, delivery_id: e.deliveryId, kind: e.kind, detail: e.detail, created_at: e.now }).execute();
  }

  async softSince(emailHash: string, since: Date): Promise<number> {
    const r = await this.db
      .selectFrom('bounce_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('email_hash', '=', emailHash)
      .where('kind', '=', 'soft')
      .where('created_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
