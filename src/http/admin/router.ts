import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { ZodError } from 'zod';
import type { HandlerContext } from '../../context.js';
import { DomainError } from '../../errors.js';
import { html } from '../html.js';
import { requestMeta } from '../meta.js';
import { adminOf, cookieNames, csrfOk, loadSession, newLoginNonce, parseCookies, safeEqual, setCookie, type AdminLocals } from './session.js';
import { noticeOf, sendPage } from './layout.js';
import { field, makeKit } from './kit.js';
import { dashboardRoutes } from './pages/dashboard.js';
import { topicRoutes } from './pages/topics.js';
import { contentRoutes } from './pages/content.js';
import { subscriberRoutes } from './pages/subscribers.js';
import { termsRoutes } from './pages/terms.js';
import { deliveryRoutes } from './pages/deliveries.js';
import { miscRoutes } from './pages/misc.js';
import { storyRoutes } from '../../stories/console.js';
import { wordingRoutes } from '../../i18n/console.js';
import { deliverabilityRoutes } from '../../deliverability/console.js';
import { webhookRoutes } from '../../webhooks/console.js';

const LOGIN_WINDOW_MS = 15 * 60_000;

/** Only a path inside the console is a place to return to after login (no open redirect). */
function safeNext(v: unknown): string {
  return typeof v === 'string' && /^\/admin(\/[\w\-./?=&%]*)?$/.test(v) && !v.startsWith('/admin/login') && !v.includes('//') ? v : '/admin';
}

const wantsJson = (req: Request) => req.path.endsWith('.json') || req.get('accept')?.startsWith('application/json') === true;

/** The admin console at /admin: login, sessions, CSRF, and every page. */
export function adminRouter(ctx: HandlerContext): Router {
  const router = Router();
  const secure = ctx.config.admin.secureCookies;
  const names = cookieNames(secure);
  const kit = makeKit(ctx);
  const publisherName = ctx.config.mail.publisherName;

  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Robots-Tag', 'noindex');
    next();
  });
  router.use(loadSession(ctx));

  // ---------------------------------------------------------------- login / logout

  const loginPage = (res: Response, status: number, o: { email?: string; next?: string; error?: string; notice?: string }) => {
    const nonce = newLoginNonce();
    setCookie(res, names.login, nonce, { secure, path: '/admin/login', maxAgeSeconds: 3600 });
    sendPage(res, status, {
      title: 'Log in',
      section: 'login',
      publisherName,
      notice: o.notice,
      error: o.error,
      body: html`<h1>Log in to the console</h1>
<form method="post" action="/admin/login" class="login">
<input type="hidden" name="_login" value="${nonce}">
<input type="hidden" name="next" value="${o.next ?? '/admin'}">
<p class="field"><label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${o.email ?? ''}"></p>
<p class="field"><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Log in</button></p>
</form>
<p class="muted">No account yet? An operator creates one with <code>npm run cli -- admin:create --email you@example.com</code>.</p>`,
    });
  };

  const limited = (message: string) => (req: Request, res: Response) => {
    ctx.logger.warn({ ip: req.ip }, 'admin login rate-limited');
    loginPage(res, 429, { email: field(req, 'email'), error: message });
  };
  const perIp = rateLimit({
    windowMs: LOGIN_WINDOW_MS,
    limit: ctx.config.admin.loginAttempts * 4,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: limited('Too many failed logins from this address. Please wait 15 minutes and try again.'),
  });
  const perAccount = rateLimit({
    windowMs: LOGIN_WINDOW_MS,
    limit: ctx.config.admin.loginAttempts,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req) => `account:${field(req, 'email').toLowerCase()}`,
    handler: limited('Too many failed logins for this account. Please wait 15 minutes and try again.'),
  });

  router.get('/login', (req, res) => {
    if (res.locals.admin) return res.redirect(303, safeNext(req.query.next));
    loginPage(res, 200, { next: safeNext(req.query.next), notice: noticeOf(req.query.done) });
  });

  router.post('/login', perIp, perAccount, async (req, res) => {
    const nonce = parseCookies(req.headers.cookie).get(names.login);
    const given = field(req, '_login');
    const email = field(req, 'email');
    if (!nonce || !given || !safeEqual(nonce, given)) {
      return loginPage(res, 403, { email, error: 'The login form had expired. Please try again.' });
    }
    const password = typeof req.body?.password === 'string' ? (req.body.password as string) : '';
    const result = email && password && password.length <= 1024 ? await ctx.services.admin.login(email, password, requestMeta(req)) : undefined;
    if (!result) {
      ctx.services.admin.logFailedLogin(email, req.ip ?? null);
      return loginPage(res, 401, { email, next: safeNext(field(req, 'next')), error: 'Wrong email or password.' });
    }
    setCookie(res, names.session, result.sessionId, { secure, maxAgeSeconds: Math.floor(ctx.config.admin.sessionTtlMs / 1000) });
    setCookie(res, names.login, '', { secure, path: '/admin/login', maxAgeSeconds: 0 });
    res.redirect(303, safeNext(field(req, 'next')));
  });

  // ---------------------------------------------------------------- everything else needs a session

  router.use((req, res, next) => {
    const admin = res.locals.admin as AdminLocals | undefined;
    if (!admin) {
      const hadCookie = parseCookies(req.headers.cookie).has(names.session);
      if (wantsJson(req)) {
        res.status(401).json({ error: { code: 'unauthorized', message: 'Log in to the console first', issues: [] } });
        return;
      }
      const nextUrl = req.method === 'GET' ? req.originalUrl : '/admin';
      res.redirect(303, `/admin/login?next=${encodeURIComponent(nextUrl)}${hadCookie ? '&done=expired' : ''}`);
      return;
    }
    // Every state change in the console is a form POST with this session's token.
    if (req.method !== 'GET' && req.method !== 'HEAD' && !csrfOk(req, admin.session)) {
      ctx.logger.warn({ path: req.path }, 'admin form without a valid CSRF token');
      sendPage(res, 403, {
        title: 'Form expired',
        section: 'dashboard',
        publisherName,
        admin,
        body: html`<h1>This form could not be accepted</h1><p>It did not carry this session's security token: it may be from an older session or from another site. Nothing was changed.</p><p><a href="/admin">Back to the console</a></p>`,
      });
      return;
    }
    next();
  });

  router.post('/logout', async (_req, res) => {
    await ctx.services.admin.logout(adminOf(res).session);
    setCookie(res, names.session, '', { secure, maxAgeSeconds: 0 });
    res.redirect(303, '/admin/login?done=logged-out');
  });

  dashboardRoutes(router, kit);
  topicRoutes(router, kit);
  contentRoutes(router, kit);
  storyRoutes(router, kit);
  wordingRoutes(router, kit);
  webhookRoutes(router, kit);
  subscriberRoutes(router, kit);
  termsRoutes(router, kit);
  deliveryRoutes(router, kit);
  deliverabilityRoutes(router, kit);
  miscRoutes(router, kit);

  router.use((req, res) => {
    if (wantsJson(req)) {
      res.status(404).json({ error: { code: 'not_found', message: `No console route for ${req.method} ${req.path}`, issues: [] } });
      return;
    }
    kit.render(req, res, { status: 404, title: 'Not found', section: 'dashboard', body: html`<h1>Not found</h1><p>There is no such console page. <a href="/admin">Back to the dashboard</a></p>` });
  });

  // Console pages answer errors with a page; the JSON endpoints fall through to the API's handler.
  const pageErrors: ErrorRequestHandler = (err, req, res, next) => {
    if (res.headersSent || wantsJson(req) || !res.locals.admin) return next(err);
    let status = 500;
    let message = 'Something went wrong on our side; the error has been logged.';
    if (err instanceof DomainError && err.status < 500) {
      status = err.status;
      message = err.message;
    } else if (err instanceof ZodError) {
      status = 400;
      message = `The request is invalid: ${err.issues.map((i) => `${i.path.join('.') || 'input'} ${i.message}`).join('; ')}`;
    } else if (typeof (err as { status?: unknown })?.status === 'number' && (err as { status: number }).status < 500) {
      return next(err);
    } else {
      ctx.logger.error({ err }, 'admin console error');
    }
    kit.render(req, res, { status, title: status === 404 ? 'Not found' : 'Error', section: 'dashboard', body: html`<h1>${status === 404 ? 'Not found' : 'That did not work'}</h1><p>${message}</p><p><a href="/admin">Back to the dashboard</a></p>` });
  };
  router.use(pageErrors);
  return router;
}
