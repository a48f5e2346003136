import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { requireScope } from '../auth.js';
import { articleCreateSchema, articleListQuerySchema } from '../schemas.js';
import { articleView, decodeCursor, encodeCursor } from '../views.js';
import { invalid } from '../../errors.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

export function articlesRouter(ctx: HandlerContext): Router {
  const router = Router();

  router.post('/', requireScope(ctx, 'ingest'), async (req, res) => {
    const input = articleCreateSchema.parse(req.body);
    const result = await ctx.services.articles.ingest({ ...input, publishedAt: input.publishedAt ? new Date(input.publishedAt) : null });
    res
      .status(result.outcome === 'created' ? 201 : 200)
      .json({ article: articleView(result.article), outcome: result.outcome, matchedTopics: result.matchedTopics, story: result.story });
  });

  router.get('/', requireScope(ctx, 'ingest'), async (req, res) => {
    const q = articleListQuerySchema.parse(req.query);
    const before = q.cursor ? decodeCursor(q.cursor) : undefined;
    if (q.cursor && !before) throw invalid('The cursor is invalid', [{ path: 'cursor', message: 'is not a cursor this API returned' }]);
    const articles = await ctx.services.articles.list({
      topic: q.topic,
      since: q.since ? new Date(q.since) : undefined,
      until: q.until ? new Date(q.until) : undefined,
      before,
      limit: q.limit + 1,
    });
    const page = articles.slice(0, q.limit);
    res.json({
      articles: page.map(articleView),
      nextCursor: articles.length > q.limit ? encodeCursor(page[page.length - 1]!) : null,
    });
  });

  return router;
}

/** This router's part of the OpenAPI document. */
export function describeArticlesApi(api: ApiKit): void {
  const { json, err, jsonBody, op } = api;
  const { Article, Story } = api.shapes;

  op('post', '/api/v1/articles', { tag: 'Articles', id: 'ingestArticle', summary: 'Publish an article (CMS webhook)', description: 'Stored once (idempotent by externalId, else URL), matched against every active topic, and given its story (`update` marks an editor\'s update of its story, sent again once; `updateOf` names the earlier article).', scope: 'ingest' }, {
    request: jsonBody(articleCreateSchema),
    responses: {
      201: json(z.object({ article: Article, outcome: z.literal('created'), matchedTopics: z.array(z.string()), story: Story }), 'New article, with the slugs of the topics it matched and the story it joined'),
      200: json(z.object({ article: Article, outcome: z.string(), matchedTopics: z.array(z.string()), story: Story }), 'Known article (updated or unchanged)'),
    },
    errors: [400, 401, 403, 409, 413],
  });
  op('get', '/api/v1/articles', { tag: 'Articles', id: 'listArticles', summary: 'List articles, newest first', scope: 'ingest' }, {
    request: { query: articleListQuerySchema.extend({ cursor: articleListQuerySchema.shape.cursor.meta({ description: 'nextCursor of the previous page' }) }) },
    responses: {
      200: json(z.object({ articles: z.array(Article), nextCursor: z.string().nullable() }), 'A page of articles'),
      404: err('The topic does not exist'),
    },
    errors: [400, 401, 403],
  });
}
