import { DomainError, notFound } from '../errors.js';
import type { Repositories } from '../repositories/index.js';
import type { Clock } from '../clock.js';
import { forbiddenReason, resolveAll, type Resolver } from './address-guard.js';
import { newSecret, type WebhookAttempt, type WebhookEndpoint, type WebhookMessageView } from './repository.js';
import type { WebhookEventType } from './events.js';

export interface EndpointInput {
  url: string;
  events: WebhookEventType[];
  description?: string;
  active?: boolean;
}

export interface WebhookServiceOptions {
  allowPrivate: boolean;
  secretGraceMs: number;
  resolve?: Resolver;
}

/**
 * The publisher's webhook endpoints: saved only for addresses the service may reach (see
 * address-guard), each with a secret shown once; rotation keeps the old secret signing too for
 * the grace period; every change audited. Delivery is the worker's (WebhookDeliverer).
 */
export class WebhookService {
  constructor(
    private readonly repos: Repositories,
    private readonly clock: Clock,
    private readonly opts: WebhookServiceOptions,
  ) {}

  /** 400 for a URL the worker would refuse to connect to (checked again at connect time). */
  private async checkUrl(url: string): Promise<void> {
    const target = new URL(url);
    if (target.username || target.password) throw invalidUrl('must not carry credentials');
    const addresses = await resolveAll(target.hostname, this.opts.resolve);
    // A name that does not resolve now may later; the connect-time check stands guard then.
    for (const a of addresses ?? []) {
      const bad = forbiddenReason(a, this.opts.allowPrivate);
      if (bad) throw invalidUrl(target.hostname === a ? bad.message : `${target.hostname} resolves to ${bad.message}`);
    }
  }

  async create(input: EndpointInput, actor: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    await this.checkUrl(input.url);
    const now = this.clock.now();
    const secret = newSecret();
    const endpoint = await this.repos.transaction(async (r) => {
      const e = await r.webhooks.endpoints.create({ url: input.url, description: input.description ?? '', events: [...new Set(input.events)], active: input.active ?? true, secret, now });
      await r.audit.record({ actor, action: 'webhook.create', target: `webhook:${e.id}`, details: { url: e.url, events: e.events } });
      return e;
    });
    return { endpoint, secret };
  }

  list(): Promise<WebhookEndpoint[]> {
    return this.repos.webhooks.endpoints.list();
  }

  async get(id: number): Promise<WebhookEndpoint> {
    const e = await this.repos.webhooks.endpoints.find(id);
    if (!e) throw notFound(`Webhook ${id}`);
    return e;
  }

  /** Changes an endpoint; re-enabling one restarts its waiting messages, in order, now. */
  async update(id: number, input: Partial<EndpointInput>, actor: string): Promise<WebhookEndpoint> {
    if (input.url !== undefined) await this.checkUrl(input.url);
    const now = this.clock.now();
    return this.repos.transaction(async (r) => {
      const before = await r.webhooks.endpoints.find(id);
      if (!before) throw notFound(`Webhook ${id}`);
      const e = (await r.webhooks.endpoints.update(id, { ...input, ...(input.events && { events: [...new Set(input.events)] }), now }))!;
      if (input.active === true && !before.active) await r.webhooks.endpoints.restartMessages(id, now);
      await r.audit.record({ actor, action: 'webhook.update', target: `webhook:${id}`, details: { ...input } });
      return e;
    });
  }

  async remove(id: number, actor: string): Promise<void> {
    await this.repos.transaction(async (r) => {
      if (!(await r.webhooks.endpoints.delete(id))) throw notFound(`Webhook ${id}`);
      await r.audit.record({ actor, action: 'webhook.delete', target: `webhook:${id}` });
    });
  }

  /** A new secret, shown once; the old one keeps signing (a second signature) for the grace period. */
  async rotateSecret(id: number, actor: string): Promise<{ endpoint: WebhookEndpoint; secret: string; previousValidUntil: Date }> {
    const now = this.clock.now();
    const secret = newSecret();
    const previousValidUntil = new Date(now.getTime() + this.opts.secretGraceMs);
    const endpoint = await this.repos.transaction(async (r) => {
      const before = await r.webhooks.endpoints.find(id);
      if (!before) throw notFound(`Webhook ${id}`);
      const e = (await r.webhooks.endpoints.update(id, { secret, previousSecret: before.secret, previousSecretExpiresAt: previousValidUntil, now }))!;
      await r.audit.record({ actor, action: 'webhook.rotate-secret', target: `webhook:${id}` });
      return e;
    });
    return { endpoint, secret, previousValidUntil };
  }

  async activity(id: number, limit = 50): Promise<{ endpoint: WebhookEndpoint; messages: WebhookMessageView[]; attempts: WebhookAttempt[]; counts: Record<string, number> }> {
    const endpoint = await this.get(id);
    const [messages, attempts, counts] = await Promise.all([this.repos.webhooks.recentMessages(id, limit), this.repos.webhooks.recentAttempts(id, limit), this.repos.webhooks.counts(id)]);
    return { endpoint, messages, attempts, counts };
  }

  /** Sends one message's event again (same webhook-id, so a receiver that has it can tell). */
  async replay(id: number, messageId: number, actor: string): Promise<number> {
    const now = this.clock.now();
    return this.repos.transaction(async (r) => {
      const replayed = await r.webhooks.replay(id, messageId, now);
      if (replayed === undefined) throw notFound(`Message ${messageId} of webhook ${id}`);
      await r.audit.record({ actor, action: 'webhook.replay', target: `webhook:${id}`, details: { messageId, replayed } });
      return replayed;
    });
  }
}

function invalidUrl(message: string): DomainError {
  return new DomainError(400, 'invalid_request', `The webhook URL is not allowed: ${message}`, [{ path: 'url', message }]);
}
