import type { PromptEvent } from '../db/types.js';
import type { PromptCountsRepository } from '../repositories/prompt-counts.js';
import type { Logger } from '../logger.js';

/**
 * Anonymous prompt counts (shown, dismissed, signup per topic and day) are hot rows: every page
 * view would lock the same row. They are summed in memory and written once a second in one
 * statement, and on shutdown; at most a second of anonymous counts is lost if the process dies.
 * A flush interval of 0 writes through (tests).
 */
export class PromptCountBuffer {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: PromptCountsRepository,
    private readonly logger: Logger,
    private readonly flushMs: number,
  ) {
    if (flushMs > 0) {
      this.timer = setInterval(() => void this.flush(), flushMs);
      this.timer.unref();
    }
  }

  async add(day: string, topicIds: readonly number[], event: PromptEvent): Promise<void> {
    for (const id of topicIds) {
      const key = `${day}|${id}|${event}`;
      this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    }
    if (this.flushMs === 0) await this.flush();
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      const rows = [...batch].map(([key, count]) => {
        const [day, id, event] = key.split('|') as [string, string, PromptEvent];
        return { day, topicId: Number(id), event, count };
      });
      try {
        await this.repo.add(rows);
      } catch (err) {
        // Put them back: the next flush tries again.
        for (const [key, count] of batch) this.pending.set(key, (this.pending.get(key) ?? 0) + count);
        this.logger.warn({ err }, 'prompt counts could not be written; will retry');
      }
    });
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
