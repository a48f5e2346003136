import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { requireScope } from '../auth.js';
import { articleCreateSchema, articleListQuerySchema } from '../schemas.js';
import { articleView, decodeCursor, encodeCursor } from '../views.js';
import { invalid } from '../../errors.js';

export function articlesRouter(ctx: HandlerContext): Router {
  const router = Router();

  router.post('/', requireScope(ctx, 'ingest'), async (req, res) => {
    const input = articleCreateSchema.parse(req.body);
    const result = await ctx.services.articles.ingest({ ...input, publishedAt: input.publishedAt ? new Date(input.publishedAt) : null });
    res
      .status(result.outcome === 'created' ? 201 : 200)
      .json({ article: articleView(result.article), outcome: result.outcome, matchedTopics: result.matchedTopics });
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
