import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { actorOf, requireScope } from '../auth.js';
import { feedCreateSchema, idParamSchema } from '../schemas.js';
import { feedView } from '../views.js';

export function feedsRouter(ctx: HandlerContext): Router {
  const router = Router();
  router.use(requireScope(ctx, 'admin'));

  router.get('/', async (_req, res) => {
    res.json({ feeds: (await ctx.services.feeds.list()).map(feedView) });
  });

  router.post('/', async (req, res) => {
    const feed = await ctx.services.feeds.add(feedCreateSchema.parse(req.body), actorOf(req));
    res.status(201).json({ feed: feedView(feed) });
  });

  router.delete('/:id', async (req, res) => {
    await ctx.services.feeds.remove(idParamSchema.parse(req.params.id), actorOf(req));
    res.status(204).end();
  });

  return router;
}
