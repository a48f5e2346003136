import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../logger.js';

export interface Job {
  name: string;
  /** node-cron expression (seconds optional). */
  schedule: string;
  run(signal: AbortSignal): Promise<unknown>;
}

/**
 * The worker role's cron registry. Each job runs without overlap; stop() stops the timers,
 * signals running jobs to finish their current batch, and waits for them, so a shutdown
 * never cuts a job between its claim and its record.
 */
export class JobRegistry {
  private readonly jobs: Job[] = [];
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();

  constructor(private readonly logger: Logger) {}

  register(job: Job): void {
    if (!cron.validate(job.schedule)) throw new Error(`job ${job.name}: invalid schedule ${job.schedule}`);
    this.jobs.push(job);
  }

  list(): readonly Job[] {
    return this.jobs;
  }

  start(): void {
    for (const job of this.jobs) {
      const task = cron.schedule(job.schedule, () => this.runNow(job.name), {
        name: job.name,
        noOverlap: true,
        // node-cron's own messages (e.g. a tick skipped because the last run is still going,
        // which is expected for long sends) go to our log, not to stderr.
        logger: {
          info: (m) => this.logger.debug({ job: job.name }, String(m)),
          warn: (m) => this.logger.debug({ job: job.name }, String(m)),
          error: (m, err) => this.logger.error({ job: job.name, err }, String(m)),
          debug: (m) => this.logger.trace({ job: job.name }, String(m)),
        },
      });
      this.tasks.push(task);
    }
    this.logger.info({ jobs: this.jobs.map((j) => j.name) }, 'worker jobs scheduled');
  }

  /** Runs one job now (also used by the CLI and tests); errors are logged, never thrown into cron. */
  async runNow(name: string): Promise<unknown> {
    const job = this.jobs.find((j) => j.name === name);
    if (!job) throw new Error(`unknown job ${name}`);
    if (this.abort.signal.aborted) return undefined;
    const started = Date.now();
    const p = job.run(this.abort.signal).then(
      (result) => {
        this.logger.debug({ job: name, ms: Date.now() - started }, 'job finished');
        return result;
      },
      (err: unknown) => {
        this.logger.error({ job: name, err }, 'job failed');
        return undefined;
      },
    );
    this.running.add(p);
    try {
      return await p;
    } finally {
      this.running.delete(p);
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.tasks.map((t) => t.destroy()));
    this.tasks.length = 0;
    await Promise.all([...this.running]);
  }
}
