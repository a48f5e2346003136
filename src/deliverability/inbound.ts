import { DomainError } from '../errors.js';
import { parseVerpAddress, verpAddress } from '../mail/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { BounceInput, BounceResult, BounceService } from '../services/bounces.js';
import type { DeliverabilityRepository, InboundMessage } from './repository.js';
import { parseReport, type Original, type Report } from './report-parser.js';
import type { VerpSigner } from './verp.js';

export interface InboundOptions {
  bounceDomain: string | undefined;
  complaintsAddress: string | undefined;
}

export interface Envelope {
  mailFrom: string | null;
  rcptTo: string[];
  remoteAddress: string | null;
}

export interface InboundOutcome {
  id: number;
  status: 'processed' | 'unparseable' | 'ignored';
  reportKind: 'dsn' | 'arf' | null;
  result?: BounceResult;
  reason?: string;
}

const STALE_MS = 10 * 60_000;
/** Recorded reports are kept a month (their outcome is in bounce_events and the audit log); the ones an admin should look at, a quarter. */
const KEEP_PROCESSED_MS = 30 * 86_400_000;
const KEEP_FOR_A_LOOK_MS = 90 * 86_400_000;

/**
 * Mail that comes back: bounces to the VERP return path, complaint reports to the complaints
 * address. Each message is stored first (the listener answers 250 only after that, so a crash
 * loses nothing: the relay retries, or the stored row is read again by `processStale`), then read
 * and recorded through BounceService, the very service the bounces API uses: the same
 * suppression rules, audit rows and delivery updates. Whatever cannot be read, or names no
 * delivery of ours, stays in the table for an admin to look at.
 */
export class InboundMailService {
  constructor(
    private readonly repo: DeliverabilityRepository,
    private readonly bounces: BounceService,
    private readonly verp: VerpSigner,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: InboundOptions,
  ) {}

  /** Whether the listener takes mail for this recipient (checked at RCPT TO). */
  accepts(recipient: string): boolean {
    const address = recipient.trim().toLowerCase();
    if (this.opts.complaintsAddress && address === this.opts.complaintsAddress.toLowerCase()) return true;
    const token = this.opts.bounceDomain ? parseVerpAddress(address, this.opts.bounceDomain) : null;
    return token !== null && this.verp.verify(token) !== undefined;
  }

  /** Stores, then reads and records one message. Throws only when it could not be stored. */
  async receive(raw: Buffer, envelope: Envelope): Promise<InboundOutcome> {
    const id = await this.repo.insert({ receivedAt: this.clock.now(), ...envelope, raw });
    return this.process(id, raw, envelope.rcptTo);
  }

  /** Drops old inbound mail (the raw messages are the bulk of the table). */
  async purgeOld(): Promise<number> {
    const now = this.clock.now().getTime();
    return (await this.repo.purge(['processed'], new Date(now - KEEP_PROCESSED_MS))) + (await this.repo.purge(['unparseable', 'ignored'], new Date(now - KEEP_FOR_A_LOOK_MS)));
  }

  /** Rows a dead process left unread: read them now (the worker's retry job). */
  async processStale(limit = 100): Promise<number> {
    const rows = await this.repo.stale(new Date(this.clock.now().getTime() - STALE_MS), limit);
    for (const r of rows) await this.process(r.id, r.raw, r.rcptTo);
    return rows.length;
  }

  private async process(id: number, raw: Buffer, rcptTo: string[]): Promise<InboundOutcome> {
    let report: Report;
    try {
      report = await parseReport(raw);
    } catch (err) {
      return this.finish({ id, status: 'unparseable', reportKind: null, reason: `could not be read as mail: ${(err as Error).message}` });
    }
    if (report.kind === 'none') return this.finish({ id, status: 'unparseable', reportKind: null, reason: report.reason });
    const reportKind = report.kind;
    if (report.kind === 'dsn' && report.type === null) return this.finish({ id, status: 'ignored', reportKind, reason: `a status notification that reports no failure (${report.detail})` });
    if (report.kind === 'arf' && !report.complaint) return this.finish({ id, status: 'ignored', reportKind, reason: `feedback type "${report.feedbackType}" is not a complaint` });

    const target = this.target(rcptTo, report.original);
    if (!target) return this.finish({ id, status: 'ignored', reportKind, reason: 'names no delivery of ours (no signed return path, X-Delivery-Ref or known Message-ID)' });
    const input: BounceInput = { ...target, type: report.kind === 'arf' ? 'complaint' : report.type!, detail: report.detail };
    try {
      const result = await this.bounces.record(input, `inbound:${id}`);
      return this.finish({ id, status: 'processed', reportKind, result });
    } catch (err) {
      // The delivery is unknown (or its recipient erased): the API would answer 404.
      if (err instanceof DomainError && err.status < 500) return this.finish({ id, status: 'ignored', reportKind, reason: err.message });
      this.logger.error({ err, inboundId: id }, 'recording an inbound report failed; it stays received and is read again');
      return { id, status: 'ignored', reportKind, reason: 'recording failed; will be retried' };
    }
  }

  /**
   * Which delivery a report is about, as the bounces API takes it: the signed return path (the
   * recipient of a bounce, ARF's Original-Mail-From) or X-Delivery-Ref made into one, else the
   * returned Message-ID (random, so as good as a signature).
   */
  private target(rcptTo: string[], original: Original): Pick<BounceInput, 'email' | 'messageId'> | undefined {
    const domain = this.opts.bounceDomain;
    if (domain) {
      for (const candidate of [...rcptTo, original.mailFrom ?? '']) {
        const token = parseVerpAddress(candidate, domain);
        if (token && this.verp.verify(token) !== undefined) return { email: verpAddress(token, domain) };
      }
      if (original.deliveryRef && this.verp.verify(original.deliveryRef) !== undefined) return { email: verpAddress(original.deliveryRef.toLowerCase(), domain) };
    }
    if (original.messageId) return { messageId: original.messageId };
    return undefined;
  }

  private async finish(o: InboundOutcome): Promise<InboundOutcome> {
    const outcome = o.result ? { type: o.result.type, deliveryId: o.result.deliveryId, suppressed: o.result.suppressed, unsubscribed: o.result.unsubscribed } : null;
    await this.repo.finish(o.id, { status: o.status, reportKind: o.reportKind, outcome, error: o.reason ?? null, now: this.clock.now() });
    if (o.status === 'unparseable') this.logger.warn({ inboundId: o.id, reason: o.reason }, 'inbound mail kept unparsed for an admin to look at');
    return o;
  }

  /** What the console lists: what could not be read or matched, newest first. */
  needsLook(limit = 100): Promise<InboundMessage[]> {
    return this.repo.list(['unparseable', 'ignored'], limit);
  }

  recent(limit = 50): Promise<InboundMessage[]> {
    return this.repo.list(['processed', 'unparseable', 'ignored', 'received'], limit);
  }

  find(id: number) {
    return this.repo.find(id);
  }

  counts() {
    return this.repo.countByStatus();
  }
}
