import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one process, in its own registry (no global state: tests build as many
 * contexts as they like). Services receive this object and count what they do; gauges that
 * describe shared state (queue depth, sender paused) are read when scraped.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'topic_alerts_' });
  const m = {
    registry,
    httpDuration: new Histogram({
      name: 'topic_alerts_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    signups: new Counter({ name: 'topic_alerts_signups_total', help: 'Signup requests accepted (before confirmation)', registers: [registry] }),
    confirmations: new Counter({ name: 'topic_alerts_confirmations_total', help: 'Confirmation requests answered', labelNames: ['outcome'] as const, registers: [registry] }),
    unsubscribes: new Counter({ name: 'topic_alerts_unsubscribes_total', help: 'Subscriptions withdrawn', labelNames: ['channel'] as const, registers: [registry] }),
    promptEvents: new Counter({ name: 'topic_alerts_prompt_events_total', help: 'Signup prompts shown and dismissed (No Thanks)', labelNames: ['event'] as const, registers: [registry] }),
    deliveries: new Counter({ name: 'topic_alerts_deliveries_total', help: 'Delivery outcomes recorded by this process', labelNames: ['outcome'] as const, registers: [registry] }),
    sendDuration: new Histogram({
      name: 'topic_alerts_send_duration_seconds',
      help: 'Time for the SMTP relay to accept one message',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    matchDuration: new Histogram({
      name: 'topic_alerts_match_duration_seconds',
      help: 'Time to match one article against every active topic',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1],
      registers: [registry],
    }),
    feedErrors: new Counter({ name: 'topic_alerts_feed_errors_total', help: 'Failed feed polls', registers: [registry] }),
    queueDepth: new Gauge({ name: 'topic_alerts_queue_depth', help: 'Deliveries waiting or being sent', labelNames: ['status'] as const, registers: [registry] }),
    senderPaused: new Gauge({ name: 'topic_alerts_sender_paused', help: '1 while the sender is paused after relay failures', registers: [registry] }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
