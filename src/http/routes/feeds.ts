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
  const { json, E, admin, jsonBody, idParams, path } = api;
  const { Feed } = api.shapes;

  path({
    method: 'get',
    path: '/api/v1/feeds',
    tags: ['Feeds'],
    operationId: 'listFeeds',
    summary: 'RSS/Atom sources',
    ...admin('admin'),
    responses: { 200: json(z.object({ feeds: z.array(Feed) }), 'The feeds'), 401: E[401], 403: E[403] },
  });
  path({
    method: 'post',
    path: '/api/v1/feeds',
    tags: ['Feeds'],
    operationId: 'addFeed',
    summary: 'Add a feed to poll',
    ...admin('admin'),
    request: jsonBody(feedCreateSchema),
    responses: { 201: json(z.object({ feed: Feed }), 'Added'), 400: E[400], 401: E[401], 403: E[403], 409: E[409] },
  });
  path({
    method: 'delete',
    path: '/api/v1/feeds/{id}',
    tags: ['Feeds'],
    operationId: 'removeFeed',
    summary: 'Stop polling a feed',
    ...admin('admin'),
    request: { params: idParams },
    responses: { 204: { description: 'Removed' }, 400: E[400], 401: E[401], 403: E[403], 404: E[404] },
  });
}
