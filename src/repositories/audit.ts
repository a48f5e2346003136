import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  details?: Record<string, unknown>;
}

export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async record(e: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ actor: e.actor, action: e.action, target: e.target ?? null, details: JSON.stringify(e.details ?? {}) })
      .execute();
  }

  async recent(limit: number): Promise<{ id: number; actor: string; action: string; target: string | null; details: unknown; createdAt: Date }[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .select(['id', 'actor', 'action', 'target', 'details', 'created_at'])
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, actor: r.actor, action: r.action, target: r.target, details: r.details, createdAt: r.created_at }));
  }
}
