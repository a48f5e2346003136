import { sql, type Kysely } from 'kysely';
import type { Database, PromptEvent } from '../db/types.js';

/** Anonymous per-day, per-topic counts of the signup box: shown, dismissed, signups. */
export class PromptCountsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Adds aggregated counts in one statement. Keys are sorted so that two processes flushing at
   * once lock rows in the same order (no deadlock).
   */
  async add(rows: { day: string; topicId: number; event: PromptEvent; count: number }[]): Promise<void> {
    if (rows.length === 0) return;
    const sorted = [...rows].sort((a, b) => a.day.localeCompare(b.day) || a.topicId - b.topicId || a.event.localeCompare(b.event));
    await this.db
      .insertInto('prompt_counts')
      .values(sorted.map((r) => ({ day: r.day, topic_id: r.topicId, event: r.event, count: r.count })))
      .onConflict((oc) => oc.columns(['day', 'topic_id', 'event']).doUpdateSet({ count: sql<number>`prompt_counts.count + excluded.count` }))
      .execute();
  }

  async forDay(day: string): Promise<{ topicId: number; event: PromptEvent; count: number }[]> {
    const rows = await this.db.selectFrom('prompt_counts').select(['topic_id', 'event', 'count']).where('day', '=', day).execute();
    return rows.map((r) => ({ topicId: r.topic_id, event: r.event, count: r.count }));
  }
}
