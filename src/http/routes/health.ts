import { Router } from 'express';
import type { HandlerContext } from '../../context.js';

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

  return router;
}
