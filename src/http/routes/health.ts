import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

export function healthRouter(ctx: HandlerContext): Router {
  const router = Router();

  // Liveness: the process answers. Never touches the database, so a slow database does not get
  // a healthy process killed.
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Readiness: the database answers and every migration on disk is applied.
  router.get('/readyz', async (_req, res) => {
    const r = await ctx.services.system.readiness();
    if (r.ready) res.json({ status: 'ready', database: 'ok', engine: r.engine });
    else if (r.reason === 'database-unreachable') res.status(503).json({ status: 'unavailable', database: 'unreachable' });
    else res.status(503).json({ status: 'unavailable', database: 'ok', pendingMigrations: r.pendingMigrations });
  });

  // Prometheus scrapes this; the queue gauges are read when asked, not kept current in between.
  router.get('/metrics', async (_req, res) => {
    const depth = await ctx.services.system.queueDepth();
    ctx.metrics.queueDepth.set({ status: 'queued' }, depth.queued);
    ctx.metrics.queueDepth.set({ status: 'sending' }, depth.sending);
    ctx.metrics.senderPaused.set(ctx.services.sender.state().paused ? 1 : 0);
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  return router;
}

/** These routes in the OpenAPI document. */
export function describeHealth(api: ApiKit): void {
  const { json, page } = api;

  page('get', '/healthz', 'Liveness', { 200: json(z.object({ status: z.literal('ok') }), 'The process answers') });
  page('get', '/metrics', 'Prometheus metrics', { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } });
  page('get', '/readyz', 'Readiness: database reachable, every migration applied', {
    200: json(z.object({ status: z.literal('ready'), database: z.literal('ok'), engine: z.string() }), 'Ready'),
    503: json(z.object({ status: z.literal('unavailable'), database: z.string(), pendingMigrations: z.array(z.string()).optional() }), 'Not ready'),
  });
}
