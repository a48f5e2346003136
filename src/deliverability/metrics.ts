import { Gauge } from 'prom-client';
import type { Metrics } from '../metrics.js';
import type { ReputationService } from './reputation.js';
import type { DeliverabilityRepository } from './repository.js';

/**
 * The reputation figures in /metrics, read from the database when scraped (every process shows
 * the same shared figures): the window's rates, today's per sending domain, the hold, and what
 * the listener has kept for an admin to look at.
 */
export function registerDeliverabilityMetrics(metrics: Metrics, reputation: ReputationService, repo: DeliverabilityRepository): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'topic_alerts_reputation_rate',
    help: 'Complaint and hard-bounce rates over the reputation window (the last day, or the last REPUTATION_WINDOW_DELIVERIES deliveries)',
    labelNames: ['kind'] as const,
    registers,
    async collect() {
      const r = await reputation.current();
      this.set({ kind: 'complaint' }, r.window.complaintRate);
      this.set({ kind: 'hard_bounce' }, r.window.hardBounceRate);
    },
  });
  new Gauge({
    name: 'topic_alerts_reputation_daily_rate',
    help: 'Complaint and hard-bounce rates of the mail sent today (UTC), per sending domain',
    labelNames: ['kind', 'domain'] as const,
    registers,
    async collect() {
      this.reset();
      const today = reputation.today();
      for (const d of await reputation.days(1)) {
        if (d.day !== today || d.deliveries === 0) continue;
        this.set({ kind: 'complaint', domain: d.domain }, d.complaints / d.deliveries);
        this.set({ kind: 'hard_bounce', domain: d.domain }, d.hard / d.deliveries);
      }
    },
  });
  new Gauge({
    name: 'topic_alerts_sending_held',
    help: '1 while sending is held because a reputation threshold was crossed (an admin resumes)',
    registers,
    async collect() {
      this.set((await reputation.isHeld()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'topic_alerts_inbound_messages',
    help: 'Messages the bounce listener received, by how they were handled',
    labelNames: ['status'] as const,
    registers,
    async collect() {
      for (const [status, n] of Object.entries(await repo.countByStatus())) this.set({ status }, n);
    },
  });
}
