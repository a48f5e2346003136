import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { actorOf } from '../auth.js';
import { idParamSchema, statsQuerySchema, subscriberSearchQuerySchema } from '../schemas.js';
import { notFound } from '../../errors.js';
import { requireScopeOrSession } from './session.js';
import { consentView, deliveryView, exportView, subscriberView, subscriptionView } from './views.js';

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
  const subscriptions = ctx.services.subscriptions;
  router.use(requireScopeOrSession(ctx, 'admin'));

  router.get('/', async (req, res) => {
    const q = subscriberSearchQuerySchema.parse(req.query);
    const found = await ctx.services.admin.searchSubscribers(q.q, q.limit);
    res.json({ subscribers: found.map(subscriberView) });
  });

  router.get('/:id', async (req, res) => {
    const data = await subscriptions.exportData(idParamSchema.parse(req.params.id));
    if (!data) throw notFound('Subscriber');
    res.json({
      subscriber: subscriberView(data.subscriber),
      subscriptions: data.subscriptions.map(subscriptionView),
      consentEvents: data.consentEvents.map(consentView),
      deliveries: data.deliveries.slice(0, 100).map(deliveryView),
    });
  });

  router.get('/:id/export', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    const data = await subscriptions.exportData(id);
    if (!data) throw notFound('Subscriber');
    await ctx.services.admin.recordExport(id, actorOf(req));
    res.setHeader('Content-Disposition', `attachment; filename="subscriber-${id}.json"`);
    res.setHeader('Cache-Control', 'no-store');
    res.json(exportView(data, ctx.clock.now()));
  });

  router.delete('/:id', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    if (!(await subscriptions.erase(id, 'admin', actorOf(req)))) throw notFound('Subscriber');
    res.status(204).end();
  });

  return router;
}
