import type { Repositories } from '../repositories/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Config } from '../config/index.js';
import { HISTORY_TABLES, monthOf, nextMonth, type HistoryTable, type Partition } from './repository.js';

// Partitioned history: the worker keeps months of partitions created ahead and applies the
// retention settings by dropping whole expired months (DESIGN: retention is dropping a partition,
// not a DELETE). A month goes only when all of it is older than its table's horizon and nothing
// in it is still needed:
// - deliveries: none still queued or being sent;
// - sent-article and story claims: none of a delivery still to send (digests never offer an
//   article, or a story, first seen before the claims' horizon, so no "never twice" rests on them);
// - consent events: kept for the subscription's life plus CONSENT_RETENTION_AFTER_END. A month
//   holding events still needed is kept and only the events nothing needs are deleted from it.

export interface PartitionOutcome {
  name: string;
  month: string;
  estimatedRows: number;
  bytes: number;
}

export interface TableRetention {
  table: HistoryTable;
  /** Months that end before this (YYYY-MM-DD) have expired. */
  horizon: string;
  dropped: PartitionOutcome[];
  kept: (PartitionOutcome & { reason: string })[];
  /** Consent events deleted from (or, in a dry run, that would go from) months kept for others' sake. */
  rowsDeleted: number;
}

export interface RetentionReport {
  dryRun: boolean;
  tables: TableRetention[];
}

export class HistoryService {
  constructor(
    private readonly repos: Repositories,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: Config['history'],
  ) {}

  /** Creates this month's and the next `monthsAhead` months' partitions where missing. */
  async maintain(): Promise<{ created: string[]; moved: number }> {
    const months = [monthOf(this.clock.now())];
    for (let i = 0; i < this.opts.monthsAhead; i++) months.push(nextMonth(months[months.length - 1]!));
    const created: string[] = [];
    let moved = 0;
    for (const table of Object.keys(HISTORY_TABLES) as HistoryTable[]) {
      for (const month of months) {
        const r = await this.repos.history.createMonth(table, month);
        if (r.created) created.push(`${table} ${month.slice(0, 7)}`);
        moved += r.moved;
      }
    }
    if (created.length > 0) this.logger.info({ created, moved }, 'history partitions created');
    return { created, moved };
  }

  /** Drops expired months (or, with dryRun, says what would go and why the rest stays). */
  async retention(dryRun: boolean): Promise<RetentionReport> {
    const now = this.clock.now().getTime();
    const horizons: Record<HistoryTable, number> = {
      deliveries: this.opts.deliveryRetentionMs,
      sent_articles: this.opts.claimsRetentionMs,
      sent_stories: this.opts.claimsRetentionMs,
      consent_events: this.opts.consentRetentionAfterEndMs,
    };
    const tables: TableRetention[] = [];
    for (const table of Object.keys(HISTORY_TABLES) as HistoryTable[]) {
      const horizon = new Date(now - horizons[table]);
      const report: TableRetention = { table, horizon: horizon.toISOString().slice(0, 10), dropped: [], kept: [], rowsDeleted: 0 };
      for (const p of await this.repos.history.partitions(table)) {
        if (p.month === null || nextMonth(p.month) > report.horizon) continue;
        const outcome = { name: p.name, month: p.month.slice(0, 7), estimatedRows: p.estimatedRows, bytes: p.bytes };
        const reason = await this.stillNeeded(table, p, horizon);
        if (reason) {
          if (table === 'consent_events') {
            report.rowsDeleted += dryRun ? Math.max(0, (await this.repos.history.countRows(p.name)) - reason.rows) : await this.repos.history.deleteUnneededConsentEvents(p.name, horizon);
          }
          report.kept.push({ ...outcome, reason: reason.text });
          continue;
        }
        if (!dryRun) await this.repos.history.dropPartition(table, p.name);
        report.dropped.push(outcome);
      }
      tables.push(report);
    }
    if (!dryRun && tables.some((t) => t.dropped.length > 0 || t.rowsDeleted > 0)) {
      this.logger.info({ dropped: tables.flatMap((t) => t.dropped.map((d) => d.name)), rowsDeleted: tables.reduce((a, t) => a + t.rowsDeleted, 0) }, 'history retention applied');
    }
    return { dryRun, tables };
  }

  /** Why an expired month must stay, if it must. */
  private async stillNeeded(table: HistoryTable, p: Partition, horizon: Date): Promise<{ text: string; rows: number } | undefined> {
    const h = this.repos.history;
    if (table === 'deliveries') {
      const n = await h.unfinishedDeliveries(p.name);
      return n > 0 ? { text: `${n} deliveries not sent yet`, rows: n } : undefined;
    }
    if (table === 'consent_events') {
      const n = await h.neededConsentEvents(p.name, horizon);
      return n > 0 ? { text: `${n} consent events of subscriptions still running or ended within the period`, rows: n } : undefined;
    }
    const n = await h.claimsOfUnfinishedDeliveries(p.name);
    return n > 0 ? { text: `${n} claims of deliveries not sent yet`, rows: n } : undefined;
  }
}
