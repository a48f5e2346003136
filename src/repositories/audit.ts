import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  id: number;
  actor: string;
  action: string;
  target: string | null;
  details: unknown;
  createdAt: Date;
}

export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async record(e: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ actor: e.actor, action: e.action, target: e.target ?? null, details: JSON.stringify(e.details ?? {}) })
      .execute();
  }

  async recent(limit: number, actorPrefix?: string): Promise<AuditRecord[]> {
    let q = this.db.selectFrom('audit_log').select(['id', 'actor', 'action', 'target', 'details', 'created_at']).orderBy('id', 'desc').limit(limit);
    if (actorPrefix) q = q.where('actor', 'like', `${actorPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const rows = await q.execute();
    return rows.map((r) => ({ id: Number(r.id), actor: r.actor, action: r.action, target: r.target, details: r.details, createdAt: r.created_at }));
  }
}
