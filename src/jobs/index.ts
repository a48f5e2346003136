import type { HandlerContext } from '../context.js';

/** Registers the worker role's jobs. Each job's run() claims, works and records in batches. */
export function registerWorkerJobs(ctx: HandlerContext): void {
  ctx.jobs.register({
    name: 'feeds.poll',
    // Every minute: each feed carries its own next poll time (FEED_POLL_MINUTES, back-off).
    schedule: '* * * * *',
    run: (signal) => ctx.services.feeds.pollDue(signal),
  });
  const every = ctx.config.sending.intervalSeconds;
  ctx.jobs.register({
    name: 'deliveries.send',
    schedule: everySeconds(every),
    run: async (signal) => {
      const stats = await ctx.services.sender.runOnce(signal);
      for (const outcome of ['sent', 'retried', 'failed', 'bounced', 'cancelled'] as const) {
        if (stats[outcome] > 0) ctx.metrics.deliveries.inc({ outcome }, stats[outcome]);
      }
      return stats;
    },
  });
  ctx.jobs.register({
    name: 'webhooks.deliver',
    schedule: everySeconds(ctx.config.webhooks.intervalSeconds),
    run: (signal) => ctx.services.webhookDeliverer.runOnce(signal),
  });
  ctx.jobs.register({
    name: 'digests.schedule',
    schedule: ctx.config.digests.cron,
    run: () => ctx.services.scheduler.run('cron'),
  });
  // The reputation watch also runs on every recorded report; this catches reports recorded while
  // a check failed, and inbound mail a dead listener stored without reading.
  ctx.jobs.register({
    name: 'reputation.watch',
    schedule: '* * * * *',
    run: () => ctx.services.reputation.evaluate(),
  });
  ctx.jobs.register({
    name: 'inbound.retry',
    schedule: '*/5 * * * *',
    run: () => ctx.services.inbound.processStale(),
  });
  ctx.jobs.register({
    name: 'inbound.purge',
    schedule: '41 3 * * *',
    run: () => ctx.services.inbound.purgeOld(),
  });
  ctx.jobs.register({
    name: 'admin-sessions.purge',
    schedule: '23 * * * *',
    run: () => ctx.services.admin.purgeExpiredSessions(),
  });
  // Partitions for the months ahead, then retention: expired months of history dropped.
  ctx.jobs.register({
    name: 'history.maintain',
    schedule: '29 2 * * *',
    run: async () => ({ ...(await ctx.services.history.maintain()), retention: await ctx.services.history.retention(false) }),
  });
  ctx.jobs.register({
    name: 'signups.purge',
    schedule: '17 * * * *',
    run: () => ctx.services.subscriptions.purgeUnconfirmed(),
  });
}

/** A cron expression for "every n seconds" (whole minutes from 60 on). */
function everySeconds(n: number): string {
  return n < 60 ? `*/${n} * * * * *` : `*/${Math.max(1, Math.round(n / 60))} * * * *`;
}
