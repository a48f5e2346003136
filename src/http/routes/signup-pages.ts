import { Router, type Response } from 'express';
import { ZodError } from 'zod';
import type { HandlerContext } from '../../context.js';
import { DomainError, type ErrorIssue } from '../../errors.js';
import { html, formatDate, SafeHtml } from '../html.js';
import { acceptBodies, requestMeta } from '../meta.js';
import { perIpLimit } from '../rate-limit.js';
import { manageRequestSchema, signupSchema, emailSchema } from '../schemas.js';
import { zodIssues } from '../errors.js';
import { renderMarkdown, CONSENT_TEXT } from '../../services/terms.js';
import type { Topic } from '../../repositories/topics.js';
import { FREQUENCIES, list, pageSender } from './reader-pages.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

/** The hosted signup page (works without JavaScript), the preference-link request, and the terms. */
export function signupPagesRouter(ctx: HandlerContext): Router {
  const router = Router();
  const { subscriptions, prompts, terms } = ctx.services;
  const consentMode = ctx.config.consentMode;
  const send = pageSender(ctx);

  // ---------------------------------------------------------------- hosted signup

  async function signupForm(res: Response, status: number, opts: { topics: Topic[]; article?: string; values?: Record<string, unknown>; issues?: ErrorIssue[]; notice?: string }) {
    const current = await terms.current();
    const issue = (path: string) => opts.issues?.find((i) => i.path === path)?.message;
    const err = (path: string) => (issue(path) ? html`<p class="error" id="${path}-error">${issue(path)}</p>` : '');
    const chosen = new Set(list(opts.values?.topics));
    const body = html`
      <h1>Get the latest news on ${opts.topics.length === 1 ? opts.topics[0]!.name : 'these topics'}</h1>
      ${opts.notice ? html`<p class="callout" role="alert">${opts.notice}</p>` : ''}
      ${opts.issues?.length ? html`<p class="callout" role="alert">Please correct the marked fields.</p>` : ''}
      <form method="post" action="/subscribe" class="signup" novalidate>
        <p><label for="email">Email address</label><br>
          <input id="email" name="email" type="email" autocomplete="email" required maxlength="254"
            value="${opts.values?.email ?? ''}" ${issue('email') ? html`aria-invalid="true" aria-describedby="email-error"` : ''}></p>
        ${err('email')}
        <fieldset><legend>Topics</legend>
          ${opts.topics.map(
            (t, i) => html`<p><label><input type="checkbox" name="topics" value="${t.slug}" ${chosen.size ? (chosen.has(t.slug) ? 'checked' : '') : i === 0 ? 'checked' : ''}> ${t.name}</label></p>`,
          )}
        </fieldset>
        ${err('topics')}
        <p><label for="frequency">How often</label><br>
          <select id="frequency" name="frequency">${FREQUENCIES.map(([v, label]) => html`<option value="${v}" ${v === (opts.values?.frequency ?? 'daily') ? 'selected' : ''}>${label}</option>`)}</select></p>
        <p class="hp" aria-hidden="true"><label for="website">Leave this empty</label><input id="website" name="website" tabindex="-1" autocomplete="off"></p>
        <input type="hidden" name="termsVersion" value="${current?.version ?? ''}">
        <input type="hidden" name="formToken" value="${prompts.formToken()}">
        ${opts.article ? html`<input type="hidden" name="article" value="${opts.article}">` : ''}
        ${consentMode === 'checkbox'
          ? html`<p><label><input type="checkbox" name="acceptTerms" value="true" required ${issue('acceptTerms') ? html`aria-invalid="true" aria-describedby="acceptTerms-error"` : ''}>
              I agree to the <a href="/terms" target="_blank" rel="noopener">Terms &amp; Conditions</a></label></p>${err('acceptTerms')}`
          : html`<input type="hidden" name="acceptTerms" value="true">`}
        <p><button type="submit">Sign up for free today</button></p>
        ${consentMode === 'statement' ? html`<p class="muted">By signing up to this email alert, you agree to our <a href="/terms" target="_blank" rel="noopener">Terms &amp; Conditions</a></p>` : ''}
      </form>`;
    send(res, status, 'Sign up for email alerts', body);
  }

  router.get('/subscribe', async (req, res) => {
    const article = typeof req.query.article === 'string' ? req.query.article.slice(0, 2048) : undefined;
    const topics = await prompts.topicsFor(list(req.query.topics).slice(0, 20), article);
    if (topics.length === 0) {
      send(res, 404, 'No topics', html`<h1>No topics to sign up for</h1><p>The topics in this link do not exist or are no longer offered.</p>`);
      return;
    }
    await signupForm(res, 200, { topics, article });
  });

  router.post('/subscribe', perIpLimit(ctx.config.lifecycle.signupRateLimitPerMinute), acceptBodies('urlencoded'), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const article = typeof body.article === 'string' ? body.article.slice(0, 2048) : undefined;
    const topics = await prompts.topicsFor(list(body.topics).slice(0, 20), article);
    try {
      const input = signupSchema.parse(body);
      await subscriptions.signup({ ...input, form: 'hosted', sourceUrl: input.sourceUrl ?? null }, requestMeta(req));
    } catch (err) {
      if (err instanceof ZodError) return signupForm(res, 400, { topics, article, values: body, issues: zodIssues(err) });
      if (err instanceof DomainError && err.status === 409) {
        return signupForm(res, 409, { topics, article, values: { ...body, acceptTerms: undefined }, notice: 'Our Terms & Conditions have changed. Please review them and submit again.' });
      }
      if (err instanceof DomainError && err.status < 500) return signupForm(res, err.status, { topics, article, values: body, issues: err.issues.length ? err.issues : [{ path: 'email', message: err.message }] });
      throw err;
    }
    send(res, 202, 'Check your inbox', html`<h1>Check your inbox</h1><p>We have sent you an email. Click <strong>Confirm</strong> in it to start receiving alerts. If nothing arrives within a few minutes, check your spam folder.</p>`);
  });

  // ---------------------------------------------------------------- manage link by email

  router.get('/manage', (_req, res) => {
    send(res, 200, 'Manage your alerts', html`<h1>Manage your alerts</h1>
      <p>Enter your address and we will email you a link to your preferences.</p>
      <form method="post" action="/manage"><p><label for="email">Email address</label><br><input id="email" name="email" type="email" autocomplete="email" required maxlength="254"></p>
      <p><button type="submit">Email me a link</button></p></form>`);
  });

  router.post('/manage', perIpLimit(ctx.config.lifecycle.signupRateLimitPerMinute), acceptBodies('urlencoded', 'json'), async (req, res) => {
    const parsed = manageRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return send(res, 400, 'Manage your alerts', html`<h1>Manage your alerts</h1><p class="error" role="alert">Please enter a valid email address.</p><p><a href="/manage">Try again</a></p>`);
    }
    await ctx.services.preferences.requestManageLink(parsed.data.email);
    send(res, 202, 'Check your inbox', html`<h1>Check your inbox</h1><p>If this address has alerts with us, we have emailed it a link to manage them.</p>`);
  });

  // ---------------------------------------------------------------- terms

  const termsPage = async (res: Response, version?: number) => {
    const t = version === undefined ? await terms.current() : await terms.find(version);
    if (!t) return send(res, 404, 'Terms not found', html`<h1>Terms &amp; Conditions</h1><p>${version === undefined ? 'No terms have been published yet.' : 'There is no such version.'}</p>`);
    const current = await terms.current();
    send(res, 200, t.title, html`<article class="terms">
      <h1>${t.title}</h1>
      <p class="muted">Version ${t.version}, published ${formatDate(t.publishedAt)}${current && current.version !== t.version ? html` — <a href="/terms">see the version in force</a>` : ''}</p>
      ${t.placeholder ? html`<p class="callout" role="note"><strong>Placeholder:</strong> not the publisher's terms.</p>` : ''}
      ${new SafeHtml(renderMarkdown(t.bodyMarkdown))}
      <p class="muted">Consent wording: “${CONSENT_TEXT[consentMode]}”.</p></article>`);
  };
  router.get('/terms', async (_req, res) => termsPage(res));
  router.get('/terms/:version', async (req, res) => {
    const v = Number(req.params.version);
    if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) return send(res, 404, 'Terms not found', html`<h1>No such version</h1>`);
    await termsPage(res, v);
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
