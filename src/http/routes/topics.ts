import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { actorOf, requireScope } from '../auth.js';
import { slugSchema, topicCreateSchema, topicListQuerySchema, topicPatchSchema, topicTestSchema } from '../schemas.js';
import { articleView, topicView } from '../views.js';
import { invalid } from '../../errors.js';

export function topicsRouter(ctx: HandlerContext): Router {
  const router = Router();
  const topics = ctx.services.topics;
  router.use(requireScope(ctx, 'admin'));

  router.get('/', async (req, res) => {
    const { status } = topicListQuerySchema.parse(req.query);
    res.json({ topics: (await topics.list(status)).map(topicView) });
  });

  router.post('/', async (req, res) => {
    const input = topicCreateSchema.parse(req.body);
    const topic = await topics.create(input, actorOf(req));
    res.status(201).location(`/api/v1/topics/${topic.slug}`).json({ topic: topicView(topic) });
  });

  // A draft query, before the topic exists.
  router.post('/test', async (req, res) => {
    const body = topicTestSchema.parse(req.body ?? {});
    if (!body.query) throw invalid('A query is required', [{ path: 'query', message: 'is required' }]);
    const result = await topics.test(body.query, body);
    res.json({ ...result, matches: result.matches.map(articleView) });
  });

  router.get('/:slug', async (req, res) => {
    res.json({ topic: topicView(await topics.get(slugSchema.parse(req.params.slug))) });
  });

  router.patch('/:slug', async (req, res) => {
    const slug = slugSchema.parse(req.params.slug);
    const patch = topicPatchSchema.parse(req.body);
    res.json({ topic: topicView(await topics.update(slug, patch, actorOf(req))) });
  });

  router.delete('/:slug', async (req, res) => {
    const topic = await topics.archive(slugSchema.parse(req.params.slug), actorOf(req));
    res.json({ topic: topicView(topic) });
  });

  // The saved query, or a draft sent in the body, over recent articles.
  router.post('/:slug/test', async (req, res) => {
    const topic = await topics.get(slugSchema.parse(req.params.slug));
    const body = topicTestSchema.parse(req.body ?? {});
    const result = await topics.test(body.query ?? topic.query, body);
    res.json({ ...result, matches: result.matches.map(articleView) });
  });

  return router;
}
