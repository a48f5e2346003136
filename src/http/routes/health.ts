import { Router } from 'express';
import type { AppContext } from '../../context.js';

export function healthRouter(ctx: AppContext): Router {
  const router = Router();

  // Liveness: the process answers. Never touches the database, so a slow database does not get
  // a healthy process killed.
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Readiness: the database answers and every migration on disk is applied.
  router.get('/readyz', async (_req, res) => {
    try {
      await ctx.repos.system.ping();
    } catch {
      res.status(503).json({ status: 'unavailable', database: 'unreachable' });
      return;
    }
    const pending = await ctx.repos.system.pendingMigrations();
    if (pending.length > 0) {
      res.status(503).json({ status: 'unavailable', database: 'ok', pendingMigrations: pending });
      return;
    }
    res.json({ status: 'ready', database: 'ok', engine: ctx.database.engine });
  });

  return router;
}
