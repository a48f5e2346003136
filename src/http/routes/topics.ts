import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { actorOf, requireScope } from '../auth.js';
import { slugSchema, topicCreateSchema, topicListQuerySchema, topicPatchSchema, topicTestSchema } from '../schemas.js';
import { articleView, topicView } from '../views.js';
import { invalid } from '../../errors.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

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

/** This router's part of the OpenAPI document. */
export function describeTopicsApi(api: ApiKit): void {
  const { json, err, jsonBody, slugParams, op } = api;
  const { Topic, TopicTestResult } = api.shapes;

  op('get', '/api/v1/topics', { tag: 'Topics', id: 'listTopics', summary: 'List topics', scope: 'admin' }, {
    request: { query: topicListQuerySchema },
    responses: { 200: json(z.object({ topics: z.array(Topic) }), 'The topics') },
    errors: [400, 401, 403],
  });
  op('post', '/api/v1/topics', { tag: 'Topics', id: 'createTopic', summary: 'Create a topic', description: 'The query is parsed and checked; tags through `tag:` in the query.', scope: 'admin' }, {
    request: jsonBody(topicCreateSchema),
    responses: {
      201: { ...json(z.object({ topic: Topic }), 'Created'), headers: { Location: { description: 'URL of the new topic', schema: { type: 'string' } } } },
      409: err('slug_taken: the slug is in use'),
    },
    errors: [400, 401, 403, 413],
  });
  op('post', '/api/v1/topics/test', { tag: 'Topics', id: 'testDraftQuery', summary: 'Run a draft query against recent articles', scope: 'admin' }, {
    request: jsonBody(topicTestSchema, '`query` is required here'),
    responses: { 200: json(TopicTestResult, 'The matches') },
    errors: [400, 401, 403],
  });
  op('get', '/api/v1/topics/{slug}', { tag: 'Topics', id: 'getTopic', summary: 'One topic', scope: 'admin' }, {
    request: { params: slugParams },
    responses: { 200: json(z.object({ topic: Topic }), 'The topic') },
    errors: [400, 401, 403, 404],
  });
  op('patch', '/api/v1/topics/{slug}', { tag: 'Topics', id: 'updateTopic', summary: 'Change a topic', scope: 'admin' }, {
    request: { params: slugParams, ...jsonBody(topicPatchSchema) },
    responses: { 200: json(z.object({ topic: Topic }), 'The changed topic') },
    errors: [400, 401, 403, 404],
  });
  op('delete', '/api/v1/topics/{slug}', { tag: 'Topics', id: 'archiveTopic', summary: 'Archive a topic', description: 'Topics are archived, not deleted: subscriptions and consent history refer to them.', scope: 'admin' }, {
    request: { params: slugParams },
    responses: { 200: json(z.object({ topic: Topic }), 'The archived topic') },
    errors: [400, 401, 403, 404],
  });
  op('post', '/api/v1/topics/{slug}/test', { tag: 'Topics', id: 'testTopic', summary: "Run the topic's query (or a draft) against recent articles", scope: 'admin' }, {
    request: { params: slugParams, body: { required: false, content: { 'application/json': { schema: topicTestSchema } } } },
    responses: { 200: json(TopicTestResult, 'The matches') },
    errors: [400, 401, 403, 404],
  });
}
