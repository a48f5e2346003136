import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { acceptBodies, requestMeta } from '../meta.js';
import { widgetCors } from '../cors.js';
import { perIpLimit } from '../rate-limit.js';
import { actorOf, requireScope } from '../auth.js';
import { languageSchema, promptEventSchema, signupSchema, termsPublishSchema, termsTextSchema, widgetConfigQuerySchema } from '../schemas.js';

const versionSchema = z.coerce.number({ error: 'must be a version number' }).int().min(1).max(2 ** 31 - 1);
import type { TermsVersion } from '../../repositories/terms.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

const termsView = (t: TermsVersion) => ({
  version: t.version,
  language: t.language,
  title: t.title,
  bodyMarkdown: t.bodyMarkdown,
  sha256: t.bodySha256,
  placeholder: t.placeholder,
  publishedAt: t.publishedAt.toISOString(),
  translations: t.translations.map((x) => ({ language: x.language, title: x.title, bodyMarkdown: x.bodyMarkdown, sha256: x.bodySha256 })),
});

export function publicApiRouter(ctx: HandlerContext): Router {
  const router = Router();
  const cors = widgetCors(ctx.config.http.allowedOrigins, ctx.config.http.baseUrl);
  const { prompts, subscriptions } = ctx.services;

  router.use(['/widget-config', '/subscriptions', '/prompt-events'], cors);

  router.get('/widget-config', async (req, res) => {
    const q = widgetConfigQuerySchema.parse(req.query);
    const { config, etag } = await prompts.config(q.topics ?? [], q.article, { query: q.lang, page: q.pageLang, acceptLanguage: req.get('accept-language') });
    res.vary('Accept-Language');
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

  router.post('/terms/:version/translations/:language', requireScope(ctx, 'admin'), async (req, res) => {
    const version = versionSchema.parse(req.params.version);
    const language = languageSchema.parse(req.params.language);
    const t = await ctx.services.terms.addTranslation(version, language, termsTextSchema.parse(req.body), actorOf(req));
    res.status(201).json({ terms: termsView(t) });
  });

  return router;
}

/** The public API's part of the OpenAPI document: widget config, signups, prompt counts; and terms. */
export function describePublicApi(api: ApiKit): void {
  const { json, err, jsonBody, op } = api;
  const { TermsVersion, WidgetConfig } = api.shapes;

  op('get', '/api/v1/widget-config', { tag: 'Public', id: 'getWidgetConfig', summary: 'What the signup box shows', description: 'Topics (slug, name), consent mode and text, terms URL and version, and a signed form token (time trap). Cacheable for a minute; CORS for ALLOWED_ORIGINS.' }, {
    request: {
      query: widgetConfigQuerySchema.extend({
        topics: widgetConfigQuerySchema.shape.topics.meta({ description: 'Comma-separated topic slugs', example: ['japan', 'nato'], param: { style: 'form', explode: false } }),
        article: widgetConfigQuerySchema.shape.article.meta({ description: 'URL of the article the box is on; picks its topics (and, when ingested, its language)' }),
        lang: widgetConfigQuerySchema.shape.lang.meta({ description: 'The language wanted (en, ar, es, pt, fr, de); overrides every other hint' }),
        pageLang: widgetConfigQuerySchema.shape.pageLang.meta({ description: "The embedding page's lang attribute" }),
      }),
    },
    responses: { 200: json(WidgetConfig, 'The widget configuration'), 304: { description: 'Not modified (If-None-Match)' } },
    errors: [400],
  });
  op('post', '/api/v1/subscriptions', { tag: 'Public', id: 'createSubscription', summary: 'Sign up (double opt-in)', description: 'Writes pending subscriptions and queues a confirmation mail. The answer is the same whatever the state of the address (no enumeration).' }, {
    request: jsonBody(signupSchema, 'JSON from the widget or a form post; `topics` may be a comma-separated string', true),
    responses: {
      202: json(z.object({ status: z.literal('pending'), message: z.string() }), 'Accepted: a confirmation mail is on its way (or nothing is sent, silently)'),
      409: err('terms_outdated: the terms version shown is no longer current'),
      503: err('No terms are published yet (production)'),
    },
    errors: [400, 413, 415, 429],
  });
  op('post', '/api/v1/prompt-events', { tag: 'Public', id: 'recordPromptEvent', summary: 'Count a prompt shown or dismissed (No Thanks)', description: 'Anonymous per-topic, per-day counts; no personal data. Unknown slugs are ignored.' }, {
    request: jsonBody(promptEventSchema),
    responses: { 204: { description: 'Counted' } },
    errors: [400, 413, 415, 429],
  });
  op('get', '/api/v1/terms', { tag: 'Terms', id: 'listTerms', summary: 'Every published terms version', scope: 'admin' }, {
    responses: { 200: json(z.object({ terms: z.array(TermsVersion) }), 'Newest first') },
    errors: [401, 403],
  });
  op('post', '/api/v1/terms', { tag: 'Terms', id: 'publishTerms', summary: 'Publish a terms version (it becomes current)', description: 'Published versions are never edited. Signups showing an older version get 409 terms_outdated.', scope: 'admin' }, {
    request: jsonBody(termsPublishSchema),
    responses: { 201: json(z.object({ terms: TermsVersion }), 'Published') },
    errors: [400, 401, 403, 413],
  });
  op('post', '/api/v1/terms/{version}/translations/{language}', { tag: 'Terms', id: 'translateTerms', summary: "Publish a version's text in another language", description: 'Each text is published once and never replaced (consents record its hash): a second one for the same language is 409.', scope: 'admin' }, {
    request: {
      params: z.object({ version: z.string().meta({ example: '2' }), language: z.string().meta({ example: 'ar' }) }),
      ...jsonBody(termsTextSchema),
    },
    responses: { 201: json(z.object({ terms: TermsVersion }), 'The version with its translations'), 409: err('translation_exists: this version already has its text in that language') },
    errors: [400, 401, 403, 404, 413],
  });
}
