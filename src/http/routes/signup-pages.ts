import { Router, type Request, type Response } from 'express';
import { ZodError } from 'zod';
import type { HandlerContext } from '../../context.js';
import { DomainError, type ErrorIssue } from '../../errors.js';
import { html, SafeHtml } from '../html.js';
import { acceptBodies, requestMeta } from '../meta.js';
import { perIpLimit } from '../rate-limit.js';
import { manageRequestSchema, signupSchema, emailSchema } from '../schemas.js';
import { zodIssues } from '../errors.js';
import { renderMarkdown, termsTextIn } from '../../services/terms.js';
import { consentWords } from '../../services/prompts.js';
import { dirOf, languageName } from '../../i18n/languages.js';
import type { Topic } from '../../repositories/topics.js';
import { list, readerPages } from './reader-pages.js';
import { escapeHtml } from '../../escape-html.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

/** The hosted signup page (works without JavaScript), the preference-link request, and the terms. */
export function signupPagesRouter(ctx: HandlerContext): Router {
  const router = Router();
  const { subscriptions, prompts, terms } = ctx.services;
  const consentMode = ctx.config.consentMode;
  const readerPage = readerPages(ctx);

  // ---------------------------------------------------------------- hosted signup

  // A field's problem in the reader's words where the box has them, else the server's own.
  const FIELD_MESSAGES: Record<string, string> = { email: 'box.error.email', topics: 'box.error.topics', acceptTerms: 'box.error.consent' };

  async function signupForm(req: Request, res: Response, status: number, opts: { topics: Topic[]; article?: string; values?: Record<string, unknown>; issues?: ErrorIssue[]; notice?: string; language?: string }) {
    const current = await terms.current();
    // the box's choice: the reader's, else the article's language (from ingest), else the browser's
    const articleLanguage = opts.article ? (await prompts.forArticle([], opts.article)).language : null;
    const p = await readerPage(req, { language: opts.language ?? (typeof req.query.lang === 'string' ? req.query.lang : articleLanguage) });
    const issue = (path: string) => {
      const i = opts.issues?.find((x) => x.path === path);
      return i && (FIELD_MESSAGES[path] && path !== 'topics' ? p.t(FIELD_MESSAGES[path]!) : i.message);
    };
    const err = (path: string) => (issue(path) ? html`<p class="error" id="${path}-error">${issue(path)}</p>` : '');
    const chosen = new Set(list(opts.values?.topics));
    const termsHref = `/terms${current ? `/${current.version}` : ''}?lang=${p.lang}`;
    const termsTag = { terms: { open: `<a href="${escapeHtml(termsHref)}" target="_blank" rel="noopener">`, close: '</a>' } };
    const body = html`
      <h1>${opts.topics.length === 1 ? p.t('signup.heading.one', { topic: p.topics(opts.topics) }) : p.t('signup.heading.many')}</h1>
      ${opts.notice ? html`<p class="callout" role="alert">${opts.notice}</p>` : ''}
      ${opts.issues?.length ? html`<p class="callout" role="alert">${p.t('signup.fix')}</p>` : ''}
      <form method="post" action="/subscribe" class="signup" novalidate>
        <p><label for="email">${p.t('box.email')}</label><br>
          <input id="email" name="email" type="email" autocomplete="email" required maxlength="254" dir="ltr"
            value="${opts.values?.email ?? ''}" ${issue('email') ? html`aria-invalid="true" aria-describedby="email-error"` : ''}></p>
        ${err('email')}
        <fieldset><legend>${p.t('box.topics')}</legend>
          ${opts.topics.map(
            (t, i) => html`<p><label><input type="checkbox" name="topics" value="${t.slug}" ${chosen.size ? (chosen.has(t.slug) ? 'checked' : '') : i === 0 ? 'checked' : ''}> ${p.topics([t])}</label></p>`,
          )}
        </fieldset>
        ${err('topics')}
        <p><label for="frequency">${p.t('box.frequency')}</label><br>
          <select id="frequency" name="frequency">${p.frequencies.map(([v, label]) => html`<option value="${v}" ${v === (opts.values?.frequency ?? 'daily') ? 'selected' : ''}>${label}</option>`)}</select></p>
        <p class="hp" aria-hidden="true"><label for="website">${p.t('signup.honeypot')}</label><input id="website" name="website" tabindex="-1" autocomplete="off"></p>
        <input type="hidden" name="termsVersion" value="${current?.version ?? ''}">
        <input type="hidden" name="formToken" value="${prompts.formToken()}">
        <input type="hidden" name="language" value="${p.lang}">
        ${opts.article ? html`<input type="hidden" name="article" value="${opts.article}">` : ''}
        ${consentMode === 'checkbox'
          ? html`<p><label><input type="checkbox" name="acceptTerms" value="true" required ${issue('acceptTerms') ? html`aria-invalid="true" aria-describedby="acceptTerms-error"` : ''}>
              ${p.h('consent.checkbox', {}, termsTag)}</label></p>${err('acceptTerms')}`
          : html`<input type="hidden" name="acceptTerms" value="true">`}
        <p><button type="submit">${p.t('box.submit')}</button></p>
        ${consentMode === 'statement' ? html`<p class="muted">${p.h('consent.statement', {}, termsTag)}</p>` : ''}
      </form>`;
    p.send(res, status, p.t('signup.title'), body);
  }

  router.get('/subscribe', async (req, res) => {
    const article = typeof req.query.article === 'string' ? req.query.article.slice(0, 2048) : undefined;
    const topics = await prompts.topicsFor(list(req.query.topics).slice(0, 20), article);
    if (topics.length === 0) {
      const p = await readerPage(req);
      p.send(res, 404, p.t('signup.none.title'), html`<h1>${p.t('signup.none.heading')}</h1><p>${p.t('signup.none.body')}</p>`);
      return;
    }
    await signupForm(req, res, 200, { topics, article });
  });

  router.post('/subscribe', perIpLimit(ctx.config.lifecycle.signupRateLimitPerMinute), acceptBodies('urlencoded'), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const article = typeof body.article === 'string' ? body.article.slice(0, 2048) : undefined;
    const topics = await prompts.topicsFor(list(body.topics).slice(0, 20), article);
    const language = typeof body.language === 'string' ? body.language : undefined;
    try {
      const input = signupSchema.parse(body);
      await subscriptions.signup({ ...input, form: 'hosted', sourceUrl: input.sourceUrl ?? null }, requestMeta(req));
    } catch (err) {
      if (err instanceof ZodError) return signupForm(req, res, 400, { topics, article, values: body, issues: zodIssues(err), language });
      if (err instanceof DomainError && err.status === 409) {
        const p = await readerPage(req, { language });
        return signupForm(req, res, 409, { topics, article, values: { ...body, acceptTerms: undefined }, notice: p.t('box.termsChanged'), language });
      }
      if (err instanceof DomainError && err.status < 500) return signupForm(req, res, err.status, { topics, article, values: body, issues: err.issues.length ? err.issues : [{ path: 'email', message: err.message }], language });
      throw err;
    }
    const p = await readerPage(req, { language });
    p.send(res, 202, p.t('signup.sent.title'), html`<h1>${p.t('signup.sent.title')}</h1><p>${p.h('signup.sent.body')}</p>`);
  });

  // ---------------------------------------------------------------- manage link by email

  router.get('/manage', async (req, res) => {
    const p = await readerPage(req);
    p.send(res, 200, p.t('manage.title'), html`<h1>${p.t('manage.title')}</h1>
      <p>${p.t('manage.intro')}</p>
      <form method="post" action="/manage"><input type="hidden" name="lang" value="${p.lang}"><p><label for="email">${p.t('box.email')}</label><br><input id="email" name="email" type="email" autocomplete="email" required maxlength="254" dir="ltr"></p>
      <p><button type="submit">${p.t('manage.submit')}</button></p></form>`);
  });

  router.post('/manage', perIpLimit(ctx.config.lifecycle.signupRateLimitPerMinute), acceptBodies('urlencoded', 'json'), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const p = await readerPage(req, { language: typeof body.lang === 'string' ? body.lang : undefined });
    const parsed = manageRequestSchema.safeParse(body);
    if (!parsed.success) {
      return p.send(res, 400, p.t('manage.title'), html`<h1>${p.t('manage.title')}</h1><p class="error" role="alert">${p.t('manage.invalid')}</p><p><a href="${p.href('/manage')}">${p.t('manage.retry')}</a></p>`);
    }
    await ctx.services.preferences.requestManageLink(parsed.data.email);
    p.send(res, 202, p.t('signup.sent.title'), html`<h1>${p.t('signup.sent.title')}</h1><p>${p.t('manage.sent')}</p>`);
  });

  // ---------------------------------------------------------------- terms

  const termsPage = async (req: Request, res: Response, version?: number) => {
    const p = await readerPage(req);
    const t = version === undefined ? await terms.current() : await terms.find(version);
    if (!t) return p.send(res, 404, p.t('terms.notFound'), html`<h1>${p.t('terms.title')}</h1><p>${version === undefined ? p.t('terms.noneYet') : p.t('terms.noVersion')}</p>`);
    const current = await terms.current();
    const text = termsTextIn(t, p.lang);
    const words = consentWords(p.m, consentMode);
    p.send(res, 200, text.title, html`<article class="terms" lang="${text.language}" dir="${dirOf(text.language)}">
      <h1>${text.title}</h1>
      <p class="muted" lang="${p.lang}" dir="${p.m.dir}">${p.t('terms.meta', { version: t.version, publishedAt: t.publishedAt })}${current && current.version !== t.version ? html` — <a href="${p.href('/terms')}">${p.t('terms.inForce')}</a>` : ''}</p>
      ${text.language !== p.lang ? html`<p class="callout" role="note" lang="${p.lang}" dir="${p.m.dir}">${p.t('terms.untranslated', { language: languageName(p.lang, p.lang), original: languageName(text.language, p.lang) })}</p>` : ''}
      ${t.placeholder ? html`<p class="callout" role="note">${p.h('terms.placeholder')}</p>` : ''}
      ${new SafeHtml(renderMarkdown(text.bodyMarkdown))}
      <p class="muted" lang="${p.lang}" dir="${p.m.dir}">${p.t('terms.consentWording', { text: words.text })}</p></article>`);
  };
  router.get('/terms', async (req, res) => termsPage(req, res));
  router.get('/terms/:version', async (req, res) => {
    const v = Number(req.params.version);
    if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) {
      const p = await readerPage(req);
      return p.send(res, 404, p.t('terms.notFound'), html`<h1>${p.t('terms.noVersion')}</h1>`);
    }
    await termsPage(req, res, v);
  });

  return router;
}

/** These pages in the OpenAPI document. */
export function describeSignupPages(api: ApiKit): void {
  const { htmlPage, E, formBody, topicsQuery, page } = api;

  page('get', '/subscribe', 'Hosted signup page', { 200: htmlPage('The form'), 404: htmlPage('None of the topics is offered') }, { query: topicsQuery });
  page('post', '/subscribe', 'Hosted signup form post', {
    202: htmlPage('Check your inbox'),
    400: htmlPage('The form again, with the invalid fields marked'),
    409: htmlPage('The terms changed: the form again'),
    415: E[415],
    429: E[429],
  }, formBody(signupSchema));
  page('get', '/manage', 'Ask for a preference link', { 200: htmlPage('The form') });
  page('post', '/manage', 'Email me a preference link', { 202: htmlPage('The same answer whether or not the address is known'), 400: htmlPage('Not an address'), 415: E[415], 429: E[429] }, formBody(z.object({ email: emailSchema })));
  page('get', '/terms', 'The terms in force', { 200: htmlPage('The terms'), 404: htmlPage('None published yet') });
  page('get', '/terms/{version}', 'One terms version', { 200: htmlPage('The terms'), 404: htmlPage('No such version') }, {
    params: z.object({ version: z.string().meta({ description: 'Version number', example: '1' }) }),
  });
}
