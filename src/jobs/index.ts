import type { AppContext } from '../context.js';

/** Registers the worker role's jobs. Each job's run() claims, works and records in batches. */
export function registerWorkerJobs(_ctx: AppContext): void {
  // Jobs arrive with the issues that need them (sender, scheduler, feed poller, purge).
}
