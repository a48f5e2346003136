import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { acceptBodies, requestMeta } from '../meta.js';
import { widgetCors } from '../cors.js';
import { perIpLimit } from '../rate-limit.js';
import { actorOf, requireScope } from '../auth.js';
import { promptEventSchema, signupSchema, termsPublishSchema, widgetConfigQuerySchema } from '../schemas.js';
import type { TermsVersion } from '../../repositories/terms.js';

const termsView = (t: TermsVersion) => ({
  version: t.version,
  title: t.title,
  bodyMarkdown: t.bodyMarkdown,
  sha256: t.bodySha256,
  placeholder: t.placeholder,
  publishedAt: t.publishedAt.toISOString(),
});

export function publicApiRouter(ctx: HandlerContext): Router {
  const router = Router();
  const cors = widgetCors(ctx.config.http.allowedOrigins, ctx.config.http.baseUrl);
  const { prompts, subscriptions } = ctx.services;

  router.use(['/widget-config', '/subscriptions', '/prompt-events'], cors);

  router.get('/widget-config', async (req, res) => {
    const q = widgetConfigQuerySchema.parse(req.query);
    const { config, etag } = await prompts.config(q.topics ?? [], q.article);
    // Cacheable for a minute: the ETag covers everything but the form token, so a revalidated
    // copy keeps its older token (older is fine for the time trap; it only must be 2 s old).
    res.setHeader('Cache-Control', 'private, max-age=60');
    res.setHeader('ETag', etag);
    if (req.get('if-none-match') === etag) {
      res.status(304).end();
      return;
    }
    res.json({ ...config, formToken: prompts.formToken() });
  });

  router.post('/subscriptions', perIpLimit(ctx.config.lifecycle.signupRateLimitPerMinute), acceptBodies('json', 'urlencoded'), async (req, res) => {
    const input = signupSchema.parse(req.body ?? {});
    await subscriptions.signup({ ...input, form: 'widget' }, requestMeta(req));
    res.status(202).json({ status: 'pending', message: 'Check your inbox to confirm your subscription.' });
  });

  router.post('/prompt-events', perIpLimit(600), acceptBodies('json'), async (req, res) => {
    const { topics, event } = promptEventSchema.parse(req.body ?? {});
    await prompts.record(topics, event);
    res.status(204).end();
  });

  router.get('/terms', requireScope(ctx, 'admin'), async (_req, res) => {
    res.json({ terms: (await ctx.services.terms.list()).map(termsView) });
  });

  router.post('/terms', requireScope(ctx, 'admin'), async (req, res) => {
    const input = termsPublishSchema.parse(req.body);
    const t = await ctx.services.terms.publish(input, actorOf(req));
    res.status(201).json({ terms: termsView(t) });
  });

  return router;
}
