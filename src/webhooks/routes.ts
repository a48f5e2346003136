import { Router } from 'express';
import { z } from 'zod';
import type { HandlerContext } from '../context.js';
import { actorOf, requireScope } from '../http/auth.js';
import { httpUrl, idParamSchema } from '../http/schemas.js';
import { isoDate, nullableIso, type ApiKit } from '../http/openapi/kit.js';
import { eventDataSchemas, WEBHOOK_EVENT_TYPES } from './events.js';
import type { WebhookEndpoint } from './repository.js';

// /api/v1/webhooks: the publisher's endpoints, with admin API auth like the other /api/v1
// routes. The secret is in the answer to POST (and to a rotation) only.

const eventList = z.array(z.enum(WEBHOOK_EVENT_TYPES, { error: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })).min(1, { error: 'name at least one event' }).max(WEBHOOK_EVENT_TYPES.length * 2);
const description = z.string().max(500).refine((s) => !/[\r\n]/.test(s), { error: 'must be a single line' });

export const webhookCreateSchema = z.strictObject({
  url: httpUrl,
  events: eventList,
  description: description.optional(),
  active: z.boolean({ error: 'must be true or false' }).optional(),
});
export const webhookUpdateSchema = webhookCreateSchema.partial().refine((v) => Object.keys(v).length > 0, { error: 'change at least one of url, events, description, active' });

export const webhookView = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  description: e.description,
  events: e.events,
  active: e.active,
  disabledReason: e.disabledReason,
  disabledAt: e.disabledAt?.toISOString() ?? null,
  previousSecretValidUntil: e.previousSecretExpiresAt && e.previousSecret ? e.previousSecretExpiresAt.toISOString() : null,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});

export function webhooksRouter(ctx: HandlerContext): Router {
  const router = Router();
  router.use(requireScope(ctx, 'admin'));
  const webhooks = ctx.services.webhooks;

  router.get('/', async (_req, res) => {
    res.json({ webhooks: (await webhooks.list()).map(webhookView) });
  });

  router.post('/', async (req, res) => {
    const { endpoint, secret } = await webhooks.create(webhookCreateSchema.parse(req.body), actorOf(req));
    res.status(201).json({ webhook: webhookView(endpoint), secret });
  });

  router.get('/:id', async (req, res) => {
    res.json({ webhook: webhookView(await webhooks.get(idParamSchema.parse(req.params.id))) });
  });

  router.patch('/:id', async (req, res) => {
    const endpoint = await webhooks.update(idParamSchema.parse(req.params.id), webhookUpdateSchema.parse(req.body), actorOf(req));
    res.json({ webhook: webhookView(endpoint) });
  });

  router.delete('/:id', async (req, res) => {
    await webhooks.remove(idParamSchema.parse(req.params.id), actorOf(req));
    res.status(204).end();
  });

  router.post('/:id/rotate-secret', async (req, res) => {
    const { endpoint, secret } = await webhooks.rotateSecret(idParamSchema.parse(req.params.id), actorOf(req));
    res.json({ webhook: webhookView(endpoint), secret });
  });

  return router;
}

/** This router's part of the OpenAPI document, and every event's payload (the `webhooks` section). */
export function describeWebhooksApi(api: ApiKit, registry: { registerWebhook: (route: Parameters<ApiKit['path']>[0]) => void }): void {
  const { json, jsonBody, idParams, op } = api;
  const Webhook = z
    .object({
      id: z.number().int(),
      url: z.string(),
      description: z.string(),
      events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
      active: z.boolean(),
      disabledReason: z.string().nullable().meta({ description: 'Why the service disabled it (every retry of a message failed over ~24 h); PATCH active=true resumes it' }),
      disabledAt: nullableIso,
      previousSecretValidUntil: nullableIso.meta({ description: 'After a rotation, until when the old secret signs too (a second v1 signature)' }),
      createdAt: isoDate,
      updatedAt: isoDate,
    })
    .meta({ id: 'Webhook' });
  const secret = z.string().meta({ description: 'The signing secret (whsec_…), shown only in this answer', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
  const T = { tag: 'Webhooks', scope: 'admin' as const };
  op('get', '/api/v1/webhooks', { ...T, id: 'listWebhooks', summary: 'Webhook endpoints' }, { responses: { 200: json(z.object({ webhooks: z.array(Webhook) }), 'The endpoints') }, errors: [401, 403] });
  op('post', '/api/v1/webhooks', { ...T, id: 'createWebhook', summary: 'Add an endpoint', description: 'Loopback and private addresses are refused unless WEBHOOK_ALLOW_PRIVATE=true; link-local ones always (400), also when the name resolves to one.' }, {
    request: jsonBody(webhookCreateSchema),
    responses: { 201: json(z.object({ webhook: Webhook, secret }), 'Created; the secret is shown once') },
    errors: [400, 401, 403],
  });
  op('get', '/api/v1/webhooks/{id}', { ...T, id: 'getWebhook', summary: 'One endpoint' }, { request: { params: idParams }, responses: { 200: json(z.object({ webhook: Webhook }), 'The endpoint') }, errors: [400, 401, 403, 404] });
  op('patch', '/api/v1/webhooks/{id}', { ...T, id: 'updateWebhook', summary: 'Change an endpoint', description: 'active=true on a disabled endpoint resumes its waiting events, in order.' }, {
    request: { params: idParams, ...jsonBody(webhookUpdateSchema) },
    responses: { 200: json(z.object({ webhook: Webhook }), 'Changed') },
    errors: [400, 401, 403, 404],
  });
  op('delete', '/api/v1/webhooks/{id}', { ...T, id: 'deleteWebhook', summary: 'Remove an endpoint and its queue' }, { request: { params: idParams }, responses: { 204: { description: 'Removed' } }, errors: [400, 401, 403, 404] });
  op('post', '/api/v1/webhooks/{id}/rotate-secret', { ...T, id: 'rotateWebhookSecret', summary: 'New secret; the old one signs too for WEBHOOK_SECRET_GRACE' }, {
    request: { params: idParams },
    responses: { 200: json(z.object({ webhook: Webhook, secret }), 'The new secret, shown once') },
    errors: [400, 401, 403, 404],
  });

  const headers = z.object({
    'webhook-id': z.string().meta({ description: 'Stable per event: the same on every retry and replay, for deduplication' }),
    'webhook-timestamp': z.string().meta({ description: 'Unix seconds of this attempt' }),
    'webhook-signature': z.string().meta({ description: 'v1,<base64 HMAC-SHA256 of "id.timestamp.body">, space-separated when two secrets are valid' }),
  });
  for (const type of WEBHOOK_EVENT_TYPES) {
    const schema = z
      .object({ type: z.literal(type), timestamp: isoDate.meta({ description: 'When the change happened' }), data: eventDataSchemas[type] })
      .meta({ id: `WebhookEvent_${type.replace('.', '_')}` });
    registry.registerWebhook({
      method: 'post',
      path: type,
      tags: ['Webhooks'],
      summary: eventDataSchemas[type].meta()?.description as string | undefined ?? type,
      request: { headers, body: { required: true, content: { 'application/json': { schema } } } },
      responses: { 200: { description: 'Any 2xx acknowledges; anything else (redirects too) is retried with back-off' } },
    });
  }
}
