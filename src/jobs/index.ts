import type { AppContext } from '../context.js';

/** Registers the worker role's jobs. Each job's run() claims, works and records in batches. */
export function registerWorkerJobs(ctx: AppContext): void {
  ctx.jobs.register({
    name: 'feeds.poll',
    // Every minute: each feed carries its own next poll time (FEED_POLL_MINUTES, back-off).
    schedule: '* * * * *',
    run: (signal) => ctx.services.feeds.pollDue(signal),
  });
}
