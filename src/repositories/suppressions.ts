import type { Kysely } from 'kysely';
import type { Database, SuppressionReason } from '../db/types.js';

export interface Suppression {
  emailHash: string;
  reason: SuppressionReason;
  note: string | null;
  createdAt: Date;
}

/** Addresses (as keyed hashes) that must never get mail again, with the reason. */
export class SuppressionsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async isSuppressed(emailHash: string): Promise<boolean> {
    return (await this.db.selectFrom('suppressions').select('email_hash').where('email_hash', '=', emailHash).executeTakeFirst()) !== undefined;
  }

  async add(emailHash: string, reason: SuppressionReason, note: string | null, now: Date): Promise<void> {
    await this.db.insertInto('suppressions').values({ email_hash: emailHash, reason, note, created_at: now }).onConflict((oc) => oc.column('email_hash').doNothing()).execute();
  }

  async remove(emailHash: string): Promise<boolean> {
    const r = await this.db.deleteFrom('suppressions').where('email_hash', '=', emailHash).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async list(limit: number): Promise<Suppression[]> {
    const rows = await this.db.selectFrom('suppressions').select(['email_hash', 'reason', 'note', 'created_at']).orderBy('created_at', 'desc').limit(limit).execute();
    return rows.map((r) => ({ emailHash: r.email_hash, reason: r.reason, note: r.note, createdAt: r.created_at }));
  }

  /** Which of these address hashes are suppressed. */
  async suppressedAmong(hashes: readonly string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const rows = await this.db.selectFrom('suppressions').select('email_hash').where('email_hash', 'in', hashes).execute();
    return new Set(rows.map((r) => r.email_hash));
  }
}
