import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { HandlerContext } from '../context.js';
import { redactUrl } from '../logger.js';
import { apiNotFound, errorHandler } from './errors.js';
import { healthRouter } from './routes/health.js';
import { topicsRouter } from './routes/topics.js';
import { articlesRouter } from './routes/articles.js';
import { feedsRouter } from './routes/feeds.js';
import { webhooksRouter } from '../webhooks/routes.js';
import { pagesRouter } from './routes/pages.js';
import { publicApiRouter } from './routes/public-api.js';
import { signupPagesRouter } from './routes/signup-pages.js';
import { linkPagesRouter } from './routes/link-pages.js';
import { preferencePagesRouter } from './routes/preference-pages.js';
import { devMailRouter } from './routes/dev-mail.js';
import { widgetRouter } from './routes/widget.js';
import { adminRouter } from './admin/router.js';
import { statsApiRouter, subscribersApiRouter } from './admin/api.js';
import { digestsRouter } from './routes/digests.js';
import { docsRouter } from './routes/docs.js';
import { demoRouter } from './routes/demo.js';

const PUBLIC_DIR = fileURLToPath(new URL('./public', import.meta.url));
const HOT_PATHS = /^\/(widget\.js|api\/v1\/widget-config|api\/v1\/prompt-events)(\?|$)/;

export function createApp(ctx: HandlerContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.http.trustProxy);

  const requestId = (req: express.Request, res: express.Response) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', id);
    return id;
  };
  const httpLogger = pinoHttp({
      logger: ctx.logger,
      genReqId: requestId,
      // Only what an operator needs; addresses and tokens never reach the log.
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      // Every page view of the publisher's site asks for the widget and its config: their
      // successes are counted in /metrics, not written one line each; failures still are.
      customLogLevel: (req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : HOT_PATHS.test(req.url ?? '') ? 'silent' : 'info',
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    });
  // The widget's GETs come with every page view of the publisher's site: they skip the
  // per-request logger entirely (their errors are still logged by the error handler, their
  // volume and latency are in /metrics).
  app.use((req, res, next) => {
    if (req.method === 'GET' && HOT_PATHS.test(req.url)) {
      requestId(req, res);
      return next();
    }
    httpLogger(req, res, next);
  });

  // Request latency by route pattern (never the raw path: tokens and ids stay out of labels).
  app.use((req, res, next) => {
    const stop = ctx.metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : req.path.startsWith('/assets/') ? '/assets' : 'unmatched';
      stop({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
    }),
  );

  const jsonBody = express.json({ limit: ctx.config.http.jsonBodyLimit, type: ['application/json', 'application/*+json'] });
  const formBody = express.urlencoded({ extended: false, limit: ctx.config.http.jsonBodyLimit, parameterLimit: 200 });
  // GET and HEAD carry no body we read: skip both parsers (they cost ~3% of a widget-config).
  const noBody = (req: express.Request) => req.method === 'GET' || req.method === 'HEAD';
  app.use((req, res, next) => (noBody(req) ? next() : jsonBody(req, res, next)));
  app.use((req, res, next) => (noBody(req) ? next() : formBody(req, res, next)));

  app.use(healthRouter(ctx));
  app.use('/assets', express.static(PUBLIC_DIR, { maxAge: '1h', index: false }));
  app.use(widgetRouter(ctx));
  app.use('/api/v1', publicApiRouter(ctx));
  app.use('/api/v1/topics', topicsRouter(ctx));
  app.use('/api/v1', digestsRouter(ctx));
  app.use(docsRouter(ctx));
  app.use('/api/v1/articles', articlesRouter(ctx));
  app.use('/api/v1/feeds', feedsRouter(ctx));
  app.use('/api/v1/webhooks', webhooksRouter(ctx));
  app.use('/api/v1/stats', statsApiRouter(ctx));
  app.use('/api/v1/subscribers', subscribersApiRouter(ctx));
  app.use('/admin', adminRouter(ctx));
  app.use(pagesRouter(ctx));
  app.use(signupPagesRouter(ctx));
  app.use(linkPagesRouter(ctx));
  app.use(preferencePagesRouter(ctx));
  if (!ctx.config.isProduction) {
    app.use(devMailRouter(ctx));
    app.use(demoRouter(ctx));
  }

  app.use('/api', apiNotFound);
  app.use(errorHandler(ctx.logger, { publisherName: ctx.config.mail.publisherName }));
  return app;
}
