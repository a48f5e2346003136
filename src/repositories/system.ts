import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import { pendingMigrations } from '../db/migrator.js';

export class SystemRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Round trip to the database; throws when it does not answer. */
  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  pendingMigrations(): Promise<string[]> {
    return pendingMigrations(this.db);
  }
}
