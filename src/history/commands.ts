import type { Command } from '../cli/commands.js';
import type { RetentionReport } from './service.js';

// The partitioned history's operator command (merged into the CLI's list in src/cli/commands.ts).

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

/** One line per month dropped (or that would be) or kept, then the totals. */
export function formatRetention(r: RetentionReport): { notes: string[]; result: string } {
  const verb = r.dryRun ? 'would drop' : 'dropped';
  const notes: string[] = [];
  for (const t of r.tables) {
    for (const d of t.dropped) notes.push(`${t.table} ${d.month}: ${verb} ${d.name} (~${d.estimatedRows} rows, ${mb(d.bytes)})`);
    for (const k of t.kept) notes.push(`${t.table} ${k.month}: kept ${k.name}, ${k.reason}`);
    if (t.rowsDeleted > 0) notes.push(`${t.table}: ${r.dryRun ? 'would delete' : 'deleted'} ${t.rowsDeleted} events no longer needed from the months kept`);
    if (t.dropped.length === 0 && t.kept.length === 0) notes.push(`${t.table}: nothing older than ${t.horizon}`);
  }
  const n = r.tables.reduce((a, t) => a + t.dropped.length, 0);
  const bytes = r.tables.reduce((a, t) => a + t.dropped.reduce((b, d) => b + d.bytes, 0), 0);
  return { notes, result: `${r.dryRun ? 'dry run: ' : ''}${n} partition${n === 1 ? '' : 's'} ${verb} (${mb(bytes)})` };
}

export const HISTORY_COMMANDS: Record<string, Command> = {
  'history:retention': {
    summary: 'create the months of history partitions ahead and drop expired ones per the retention settings; --dry-run prints what would go',
    options: { 'dry-run': { type: 'boolean' } },
    async run(ctx, values) {
      const dryRun = values['dry-run'] === true;
      const made = dryRun ? { created: [] } : await ctx.services.history.maintain();
      const out = formatRetention(await ctx.services.history.retention(dryRun));
      return { notes: [...made.created.map((c) => `created partition ${c}`), ...out.notes], result: out.result };
    },
  },
};
