import type { Repositories } from '../repositories/index.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Config } from '../config/index.js';
import type { Resolver } from './address-guard.js';
import { WebhookHttpClient } from './http-client.js';
import { WebhookService } from './service.js';
import { WebhookDeliverer } from './worker.js';

// Signed outgoing webhooks: the public face of src/webhooks for the context.

export { WEBHOOK_EVENT_TYPES, bounceEvent, complaintEvent, event, subscriberKey, type NewWebhookEvent, type WebhookEventType } from './events.js';

/** Largest part of an endpoint's answer kept with an attempt. */
export const RESPONSE_BODY_CAP = 4096;

export interface Webhooks {
  service: WebhookService;
  deliverer: WebhookDeliverer;
  close(): void;
}

export function createWebhooks(repos: Repositories, clock: Clock, logger: Logger, config: Config['webhooks'], resolve?: Resolver): Webhooks {
  const client = new WebhookHttpClient({ timeoutMs: config.timeoutMs, allowPrivate: config.allowPrivate, maxBodyBytes: RESPONSE_BODY_CAP, resolve });
  return {
    service: new WebhookService(repos, clock, { allowPrivate: config.allowPrivate, secretGraceMs: config.secretGraceMs, resolve }),
    deliverer: new WebhookDeliverer(repos, client, clock, logger, { retryScheduleMs: config.retryScheduleMs, leaseMs: config.leaseMs, concurrency: config.concurrency }),
    close: () => client.close(),
  };
}
