import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { actorOf } from '../auth.js';
import { idParamSchema, statsQuerySchema, subscriberAttentionSchema, subscriberSearchQuerySchema } from '../schemas.js';
import { notFound } from '../../errors.js';
import { requireScopeOrSession } from './session.js';
import { consentView, deliveryView, exportView, subscriberView, subscriptionView } from './views.js';
import { z } from 'zod';
import { type ApiKit, isoDate } from '../openapi/kit.js';

/** GET /api/v1/stats: per-day and per-topic figures (DESIGN §5). */
export function statsApiRouter(ctx: HandlerContext): Router {
  const router = Router();
  router.use(requireScopeOrSession(ctx, 'admin'));
  router.get('/', async (req, res) => {
    const q = statsQuerySchema.parse(req.query);
    res.json(await ctx.services.adminStats.stats(q.days, q.topic));
  });
  return router;
}

/** The admin API of subscribers: search, one with its history, export, erasure (DESIGN §5). */
export function subscribersApiRouter(ctx: HandlerContext): Router {
  const router = Router();
  router.use(requireScopeOrSession(ctx, 'admin'));

  router.get('/', async (req, res) => {
    const q = subscriberSearchQuerySchema.parse(req.query);
    const found = await ctx.services.admin.searchSubscribers(q.q, q.limit);
    res.json({ subscribers: found.map(subscriberView) });
  });

  router.get('/:id', async (req, res) => {
    const data = await ctx.services.preferences.exportData(idParamSchema.parse(req.params.id));
    if (!data) throw notFound('Subscriber');
    res.json({
      subscriber: subscriberView(data.subscriber),
      subscriptions: data.subscriptions.map(subscriptionView),
      consentEvents: data.consentEvents.map(consentView),
      deliveries: data.deliveries.slice(0, 100).map(deliveryView),
    });
  });

  router.patch('/:id', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    const b = subscriberAttentionSchema.parse(req.body ?? {});
    const subscriber = await ctx.services.preferences.setAttention(
      id,
      {
        ...(b.quietHours !== undefined && { quiet: b.quietHours === null ? ('default' as const) : b.quietHours }),
        ...(b.instantDailyCap !== undefined && { instantDailyCap: b.instantDailyCap === null ? ('default' as const) : b.instantDailyCap }),
        ...(b.snooze !== undefined && { snooze: typeof b.snooze === 'number' ? { kind: 'days' as const, days: b.snooze } : { kind: b.snooze } }),
        ...(b.language && { language: b.language }),
      },
      actorOf(req),
    );
    res.json({ subscriber: subscriberView(subscriber) });
  });

  router.get('/:id/export', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    const data = await ctx.services.preferences.exportData(id);
    if (!data) throw notFound('Subscriber');
    await ctx.services.admin.recordExport(id, actorOf(req));
    res.setHeader('Content-Disposition', `attachment; filename="subscriber-${id}.json"`);
    res.setHeader('Cache-Control', 'no-store');
    res.json(exportView(data, ctx.clock.now()));
  });

  router.delete('/:id', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    if (!(await ctx.services.preferences.erase(id, 'admin', actorOf(req)))) throw notFound('Subscriber');
    res.status(204).end();
  });

  return router;
}

/** These routers' part of the OpenAPI document. */
export function describeAdminApi(api: ApiKit): void {
  const { json, jsonBody, idParams, op } = api;
  const { Subscriber, SubscriberDetail } = api.shapes;

  op('get', '/api/v1/stats', { tag: 'Subscribers', id: 'getStats', summary: 'Per day and topic: shown, dismissed, signups, confirmations, declines, unsubscribes, sent, bounced', scope: 'admin', session: true }, {
    request: { query: statsQuerySchema },
    responses: {
      200: json(z.object({ from: z.string(), to: z.string(), days: z.array(z.record(z.string(), z.unknown())), topics: z.array(z.record(z.string(), z.unknown())) }), 'The figures'),
    },
    errors: [400, 401, 403, 404],
  });
  op('get', '/api/v1/subscribers', { tag: 'Subscribers', id: 'searchSubscribers', summary: 'Search subscribers by address', scope: 'admin', session: true }, {
    request: { query: subscriberSearchQuerySchema },
    responses: { 200: json(z.object({ subscribers: z.array(Subscriber) }), 'Matching subscribers') },
    errors: [400, 401, 403],
  });
  op('get', '/api/v1/subscribers/{id}', { tag: 'Subscribers', id: 'getSubscriber', summary: 'One subscriber with subscriptions, consent history and deliveries', scope: 'admin', session: true }, {
    request: { params: idParams },
    responses: { 200: json(SubscriberDetail, 'The subscriber') },
    errors: [400, 401, 403, 404],
  });
  op('patch', '/api/v1/subscribers/{id}', { tag: 'Subscribers', id: 'setSubscriberAttention', summary: "Set a subscriber's attention controls and language", description: "quietHours {start,end} in the subscriber's time zone ('off': none; null: the publisher's default), instantDailyCap (0: no cap; null: the default), snooze 1/7/30 days, 'indefinitely' or 'none'; language (en, ar, es, pt, fr, de) of their mail and pages. Audited.", scope: 'admin', session: true }, {
    request: { params: idParams, ...jsonBody(subscriberAttentionSchema) },
    responses: { 200: json(z.object({ subscriber: Subscriber }), 'The subscriber as it is now') },
    errors: [400, 401, 403, 404],
  });
  op('get', '/api/v1/subscribers/{id}/export', { tag: 'Subscribers', id: 'exportSubscriber', summary: "Download a subscriber's data", scope: 'admin', session: true }, {
    request: { params: idParams },
    responses: {
      200: json(SubscriberDetail.extend({ exportedAt: isoDate }), 'The data export (an attachment)'),
    },
    errors: [400, 401, 403, 404],
  });
  op('delete', '/api/v1/subscribers/{id}', { tag: 'Subscribers', id: 'eraseSubscriber', summary: 'Erase a subscriber', description: 'Deletes personal data and consent payloads; keeps a keyed hash of the address in the suppression list.', scope: 'admin', session: true }, {
    request: { params: idParams },
    responses: { 204: { description: 'Erased' } },
    errors: [400, 401, 403, 404],
  });
}
