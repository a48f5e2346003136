import type { Repositories } from '../repositories/index.js';
import type { DatabaseEngine } from '../db/database.js';
import type { OutboxMessage } from '../repositories/outbox.js';

export type Readiness =
  | { ready: true; engine: DatabaseEngine }
  | { ready: false; reason: 'database-unreachable' }
  | { ready: false; reason: 'migrations-pending'; pendingMigrations: string[] };

/** The process's view of its database: readiness, queue gauges, and the development outbox. */
export class SystemService {
  constructor(
    private readonly repos: Repositories,
    private readonly engine: DatabaseEngine,
  ) {}

  /** Ready when the database answers and every migration on disk is applied. */
  async readiness(): Promise<Readiness> {
    try {
      await this.repos.system.ping();
    } catch {
      return { ready: false, reason: 'database-unreachable' };
    }
    const pending = await this.repos.system.pendingMigrations();
    if (pending.length > 0) return { ready: false, reason: 'migrations-pending', pendingMigrations: pending };
    return { ready: true, engine: this.engine };
  }

  /** Deliveries waiting and in flight, for the /metrics gauges. */
  queueDepth(): Promise<{ queued: number; sending: number }> {
    return this.repos.deliveries.countInFlight();
  }

  /** The development outbox, newest first (mail kept instead of sent when no relay is set). */
  outbox(limit: number): Promise<OutboxMessage[]> {
    return this.repos.outbox.list(limit);
  }

  outboxMessage(id: number): Promise<OutboxMessage | undefined> {
    return this.repos.outbox.find(id);
  }
}
