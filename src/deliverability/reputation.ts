import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Repositories } from '../repositories/index.js';
import type { DayFigures, DeliverabilityRepository, WindowFigures } from './repository.js';

export interface ReputationOptions {
  /** Fractions: 0.001 is 0.1 %. */
  complaintRateThreshold: number;
  hardBounceRateThreshold: number;
  windowMs: number;
  windowDeliveries: number;
  /** Below this many deliveries in the window, rates are shown but never pause sending. */
  minDeliveries: number;
}

/** Why sending is held, as stored in the settings table (one row shared by every process). */
export interface SendingHold {
  reason: 'complaints' | 'hard-bounces';
  message: string;
  rate: number;
  threshold: number;
  deliveries: number;
  since: string;
}

interface Resumed {
  at: string;
  by: string;
}

export interface Reputation {
  window: WindowFigures & { complaintRate: number; hardBounceRate: number };
  thresholds: { complaintRate: number; hardBounceRate: number; minDeliveries: number };
  hold: SendingHold | null;
  resumed: Resumed | null;
}

const HOLD_KEY = 'sending.hold';
/** A burst of reports (a relay returning a bad list's bounces) re-checks at most this often; the worker's job checks every minute. */
const REPORT_CHECK_MS = 10_000;
const RESUMED_KEY = 'sending.resumed';
const pct = (r: number) => `${(Math.round(r * 10000) / 100).toString()}%`;

/**
 * The reputation watch. Mailbox providers throttle or junk a sender whose complaint rate passes
 * ~0.1–0.3 % or who keeps mailing dead addresses, so when the complaint or hard-bounce rate over
 * the window (the last day's deliveries, or the last N if more) passes its threshold, sending is
 * put on hold: the sender claims nothing until an admin resumes. Queued mail stays queued, so
 * resuming loses nothing, and the sender's leases and sent records make sure nothing goes twice.
 * Resuming accepts the figures as they are: only a new complaint (or hard bounce) while the rate
 * is still over its threshold holds sending again.
 */
export class ReputationService {
  private lastReportCheck = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly repos: Repositories,
    private readonly repo: DeliverabilityRepository,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: ReputationOptions,
  ) {}

  async hold(): Promise<SendingHold | null> {
    return ((await this.repos.settings.get(HOLD_KEY)) as SendingHold | null | undefined) ?? null;
  }

  /** True while sending is held: the sender asks before every claim. */
  async isHeld(): Promise<boolean> {
    return (await this.hold()) !== null;
  }

  async current(): Promise<Reputation> {
    const now = this.clock.now();
    const [w, hold, resumed] = await Promise.all([
      this.repo.window(new Date(now.getTime() - this.opts.windowMs), this.opts.windowDeliveries),
      this.hold(),
      this.repos.settings.get(RESUMED_KEY) as Promise<Resumed | null | undefined>,
    ]);
    const rate = (n: number) => (w.deliveries === 0 ? 0 : n / w.deliveries);
    return {
      window: { ...w, complaintRate: rate(w.complaints), hardBounceRate: rate(w.hard) },
      thresholds: { complaintRate: this.opts.complaintRateThreshold, hardBounceRate: this.opts.hardBounceRateThreshold, minDeliveries: this.opts.minDeliveries },
      hold,
      resumed: resumed ?? null,
    };
  }

  /** Today's date (UTC) by the service's clock. */
  today(): string {
    return this.clock.now().toISOString().slice(0, 10);
  }

  days(days = 14): Promise<DayFigures[]> {
    return this.repo.days(new Date(this.clock.now().getTime() - days * 86_400_000));
  }

  /**
   * Holds sending when a rate passes its threshold (after a new event since the last resume).
   * Safe to run from any process at any time: the hold is one settings row; a second process
   * that finds it set does nothing.
   */
  async evaluate(): Promise<SendingHold | null> {
    const r = await this.current();
    if (r.hold) return r.hold;
    if (r.window.deliveries < this.opts.minDeliveries) return null;
    const after = r.resumed ? new Date(r.resumed.at) : new Date(0);
    const over = async (reason: SendingHold['reason'], rate: number, threshold: number, kind: 'complaint' | 'hard') =>
      rate > threshold && (await this.repo.eventsAfter(kind, after)) > 0 ? { reason, rate, threshold } : null;
    const crossed =
      (await over('complaints', r.window.complaintRate, this.opts.complaintRateThreshold, 'complaint')) ??
      (await over('hard-bounces', r.window.hardBounceRate, this.opts.hardBounceRateThreshold, 'hard'));
    if (!crossed) return null;
    const now = this.clock.now();
    const what = crossed.reason === 'complaints' ? 'complaint' : 'hard-bounce';
    const hold: SendingHold = {
      ...crossed,
      deliveries: r.window.deliveries,
      since: now.toISOString(),
      message: `The ${what} rate reached ${pct(crossed.rate)} over the last ${r.window.deliveries} deliveries, above the ${pct(crossed.threshold)} threshold: sending paused automatically.`,
    };
    await this.repos.transaction(async (t) => {
      await t.settings.set(HOLD_KEY, hold, now);
      await t.audit.record({ actor: 'system:reputation', action: 'sending.hold', target: null, details: { ...hold } });
    });
    this.logger.warn({ hold }, 'sending held: reputation threshold crossed');
    return hold;
  }

  /** After a recorded report: evaluate, unless this process did within the last few seconds. */
  async afterReport(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.lastReportCheck < REPORT_CHECK_MS) return;
    this.lastReportCheck = now;
    await this.evaluate();
  }

  /** An admin lifts the hold; the queued mail goes out with the sender's next run. */
  async resume(actor: string): Promise<{ resumed: boolean; hold: SendingHold | null }> {
    const hold = await this.hold();
    const now = this.clock.now();
    await this.repos.transaction(async (t) => {
      await t.settings.set(HOLD_KEY, null, now);
      await t.settings.set(RESUMED_KEY, { at: now.toISOString(), by: actor } satisfies Resumed, now);
      await t.audit.record({ actor, action: 'sending.resume', target: null, details: { hold } });
    });
    if (hold) this.logger.info({ actor }, 'sending resumed by an admin');
    return { resumed: hold !== null, hold };
  }
}
