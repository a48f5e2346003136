import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { actorOf, requireScope } from '../auth.js';
import { feedCreateSchema, idParamSchema } from '../schemas.js';
import { feedView } from '../views.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

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

/** This router's part of the OpenAPI document. */
export function describeFeedsApi(api: ApiKit): void {
  const { json, jsonBody, idParams, op } = api;
  const { Feed } = api.shapes;

  op('get', '/api/v1/feeds', { tag: 'Feeds', id: 'listFeeds', summary: 'RSS/Atom sources', scope: 'admin' }, {
    responses: { 200: json(z.object({ feeds: z.array(Feed) }), 'The feeds') },
    errors: [401, 403],
  });
  op('post', '/api/v1/feeds', { tag: 'Feeds', id: 'addFeed', summary: 'Add a feed to poll', scope: 'admin' }, {
    request: jsonBody(feedCreateSchema),
    responses: { 201: json(z.object({ feed: Feed }), 'Added') },
    errors: [400, 401, 403, 409],
  });
  op('delete', '/api/v1/feeds/{id}', { tag: 'Feeds', id: 'removeFeed', summary: 'Stop polling a feed', scope: 'admin' }, {
    request: { params: idParams },
    responses: { 204: { description: 'Removed' } },
    errors: [400, 401, 403, 404],
  });
}
