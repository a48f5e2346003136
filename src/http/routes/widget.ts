import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { buildWidget, type WidgetBundle } from '../../widget/build.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

const MAX_AGE_S = 300;

/**
 * GET /widget.js: the embeddable signup box, bundled in memory once per process. The build
 * starts when the router is created, so the first reader does not wait for it; a failed build is
 * logged and retried on the next request.
 */
export function widgetRouter(ctx: HandlerContext): Router {
  const router = Router();
  let bundle: Promise<WidgetBundle> | undefined;
  const load = () =>
    (bundle ??= buildWidget().catch((err: unknown) => {
      bundle = undefined;
      throw err;
    }));
  // Started now; the catch keeps a failure from being an unhandled rejection until a request sees it.
  load().catch((err: unknown) => ctx.logger.error({ err }, 'widget build failed'));

  router.get('/widget.js', async (req, res) => {
    let widget: WidgetBundle;
    try {
      widget = await load();
    } catch (err) {
      ctx.logger.error({ err }, 'widget build failed');
      // Still JavaScript: a JSON error body would be a syntax error in the reader's page.
      res.status(503).type('application/javascript').set('Cache-Control', 'no-store').send('/* topic-alerts: widget unavailable */\n');
      return;
    }
    res.set({
      'Content-Type': 'application/javascript; charset=utf-8',
      ETag: widget.etag,
      'Cache-Control': `public, max-age=${MAX_AGE_S}`,
      // helmet's default `same-origin` would make browsers refuse the script on publishers' pages.
      'Cross-Origin-Resource-Policy': 'cross-origin',
    });
    if (req.fresh) {
      res.status(304).end();
      return;
    }
    res.send(widget.code);
  });

  return router;
}

/** This route in the OpenAPI document. */
export function describeWidget(api: ApiKit): void {
  const { page } = api;

  page('get', '/widget.js', 'The embeddable signup box', { 200: { description: 'JavaScript', content: { 'application/javascript': { schema: z.string() } } }, 304: { description: 'Not modified' } });
}
