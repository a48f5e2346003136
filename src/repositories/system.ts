import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import { pendingMigrations } from '../db/migrator.js';

export class SystemRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Round trip to the database; throws when it does not answer. */
  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  /** Deliveries waiting or in flight, by status (both read through partial indexes). */
  async queueDepth(): Promise<{ queued: number; sending: number }> {
    const { rows } = await sql<{ status: 'queued' | 'sending'; n: number }>`
      SELECT status, count(*)::int AS n FROM deliveries WHERE status IN ('queued', 'sending') GROUP BY status`.execute(this.db);
    return { queued: rows.find((r) => r.status === 'queued')?.n ?? 0, sending: rows.find((r) => r.status === 'sending')?.n ?? 0 };
  }

  pendingMigrations(): Promise<string[]> {
    return pendingMigrations(this.db);
  }
}
