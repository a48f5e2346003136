import { Router, type Response } from 'express';
import { ZodError } from 'zod';
import type { HandlerContext } from '../../context.js';
import { DomainError, type ErrorIssue } from '../../errors.js';
import { html, page, formatDate, SafeHtml } from '../html.js';
import { acceptBodies, requestMeta } from '../meta.js';
import { perIpLimit } from '../rate-limit.js';
import { frequencySchema, manageRequestSchema, signupSchema } from '../schemas.js';
import { zodIssues } from '../errors.js';
import { renderMarkdown, CONSENT_TEXT } from '../../services/terms.js';
import type { Topic } from '../../repositories/topics.js';
import type { Subscriber } from '../../repositories/subscribers.js';
import type { PreferenceChanges } from '../../services/subscriptions.js';
import type { Frequency } from '../../db/types.js';

const FREQUENCIES = [
  ['instant', 'As it happens'],
  ['daily', 'Daily digest'],
  ['weekly', 'Weekly digest'],
] as const;
const FREQUENCY_LABELS = Object.fromEntries(FREQUENCIES) as Record<(typeof FREQUENCIES)[number][0], string>;
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? v.split(',') : []);

/** Reader-facing pages that work without JavaScript: hosted signup, confirm, unsubscribe, preferences. */
export function lifecyclePagesRouter(ctx: HandlerContext): Router {
  const router = Router();
  const { subscriptions, prompts, terms } = ctx.services;
  const publisherName = ctx.config.mail.publisherName;
  const consentMode = ctx.config.consentMode;
  const declineQuietDays = ctx.config.lifecycle.declineQuietDays;
  const send = (res: Response, status: number, title: string, body: SafeHtml) =>
    res.status(status).type('html').send(page({ title, publisherName, body }));

  // Token pages: never leak the token through Referer, never cache.
  router.use(['/confirm', '/decline', '/unsubscribe', '/preferences'], (_req, res, next) => {
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

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

  // ---------------------------------------------------------------- confirm / decline

  const topicNames = (topics: Topic[]) => topics.map((t) => t.name).join(', ');

  router.get('/confirm/:token', async (req, res) => {
    // GET shows and changes nothing: mail scanners open every link.
    const state = await subscriptions.confirmState(String(req.params.token));
    if (state.state === 'invalid') return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1><p>Please use the link from your most recent email.</p>`);
    if (state.state === 'expired') {
      return send(res, 410, 'Link expired', html`<h1>This confirmation link has expired</h1>
        <p>For your security, confirmation links work for a limited time.</p>
        <p><a class="button" href="/subscribe?topics=${state.topics.map((t) => t.slug).join(',')}">Sign up again</a></p>`);
    }
    if (state.state === 'used') {
      return send(res, 200, 'Already answered', state.outcome === 'declined'
        ? html`<h1>You declined this request</h1><p>No alerts will be sent.</p>`
        : html`<h1>Your subscription is confirmed</h1><p>You are subscribed to ${topicNames(state.topics)}.</p>`);
    }
    send(res, 200, 'Confirm your subscription', html`
      <h1>Confirm your subscription</h1>
      <p>You asked for email alerts about <strong>${topicNames(state.topics)}</strong>.</p>
      <form method="post" action="/confirm/${String(req.params.token)}"><button type="submit">Confirm</button></form>
      <form method="post" action="/decline/${String(req.params.token)}"><p><button type="submit" class="secondary">No thanks, this wasn't me</button></p></form>`);
  });

  router.post('/confirm/:token', async (req, res) => {
    const result = await subscriptions.confirm(String(req.params.token), requestMeta(req));
    if (result.state === 'invalid') return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1>`);
    if (result.state === 'expired') {
      return send(res, 410, 'Link expired', html`<h1>This confirmation link has expired</h1><p><a class="button" href="/subscribe?topics=${result.topics.map((t) => t.slug).join(',')}">Sign up again</a></p>`);
    }
    if (result.state === 'used' && result.outcome === 'declined') return send(res, 409, 'Declined', html`<h1>This request was declined</h1><p>Sign up again if you want alerts.</p>`);
    const prefs = result.state === 'used' || result.state === 'valid' ? ctx.links.preferencesUrl(result.subscriberId, ctx.clock.now()) : undefined;
    send(res, 200, 'Subscribed', html`<h1>You're subscribed</h1>
      <p>You will receive alerts about <strong>${topicNames(result.topics)}</strong>.</p>
      ${prefs ? html`<p><a href="${prefs}">Manage your alerts</a></p>` : ''}`);
  });

  // The confirmation mail's "No thanks, this wasn't me" opens this page; only its button declines.
  router.get('/decline/:token', async (req, res) => {
    const token = String(req.params.token);
    const state = await subscriptions.confirmState(token);
    if (state.state === 'invalid') return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1><p>Please use the link from your most recent email.</p>`);
    if (state.state === 'expired') return send(res, 410, 'Link expired', html`<h1>This link has expired</h1><p>The request was never confirmed, so nothing was signed up: you need to do nothing.</p>`);
    if (state.state === 'used') {
      return send(res, 200, 'Already answered', state.outcome === 'declined'
        ? html`<h1>You already declined this request</h1><p>No alerts will be sent, and we will not ask this address again for a while.</p>`
        : html`<h1>This subscription was confirmed</h1><p>You are subscribed to ${topicNames(state.topics)}. Use the unsubscribe link in any alert to stop them.</p>`);
    }
    send(res, 200, "No thanks, this wasn't me", html`
      <h1>Didn't ask for these alerts?</h1>
      <p>Someone asked for email alerts about <strong>${topicNames(state.topics)}</strong> (${FREQUENCY_LABELS[state.frequency].toLowerCase()}) to be sent to this address.</p>
      <p>If it wasn't you, tell us: we remove the request${declineQuietDays > 0 ? html`, and we will not send a confirmation email to this address again for ${declineQuietDays} days` : ''}.</p>
      <form method="post" action="/decline/${token}"><p><button type="submit">No thanks, this wasn't me</button></p></form>
      <p class="muted">Did you ask for them after all? <a href="/confirm/${token}">Confirm instead</a>.</p>`);
  });

  router.post('/decline/:token', async (req, res) => {
    const result = await subscriptions.decline(String(req.params.token), requestMeta(req));
    if (result.state === 'invalid') return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1>`);
    if (result.state === 'expired') return send(res, 410, 'Link expired', html`<h1>This link has expired</h1><p>Nothing was signed up: you need to do nothing.</p>`);
    if (result.state === 'used' && result.outcome === 'confirmed') return send(res, 409, 'Already confirmed', html`<h1>This subscription was already confirmed</h1><p>Use the unsubscribe link in any alert to stop them.</p>`);
    send(res, 200, 'Declined', html`<h1>Thanks for letting us know</h1><p>We removed this request and will not send confirmation emails to this address for a while.</p>`);
  });

  // ---------------------------------------------------------------- unsubscribe (RFC 8058 one-click too)

  router.get('/unsubscribe/:token', async (req, res) => {
    const target = await subscriptions.unsubscribeTarget(String(req.params.token));
    if (target === 'expired') return send(res, 410, 'Link expired', html`<h1>This unsubscribe link has expired</h1><p><a href="/manage">Get a new link to manage your alerts</a>.</p>`);
    if (!target) return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1><p><a href="/manage">Get a link to manage your alerts</a>.</p>`);
    // Say plainly what the button ends: the whole list (the mail client's link and the footer's)
    // or the named topics (a digest section's link).
    const question =
      target.topics === null
        ? target.receiving.length > 0
          ? html`<p>This stops <strong>every email alert</strong> we send to this address: <strong>${target.receiving.join(', ')}</strong>.</p>`
          : html`<p>This address receives no alerts from us now; the button makes sure none are sent.</p>`
        : html`<p>This stops alerts about <strong>${topicNames(target.topics)}</strong>. Other topics you follow are not affected.</p>`;
    send(res, 200, 'Unsubscribe', html`
      <h1>${target.topics === null ? 'Unsubscribe from all alerts' : 'Unsubscribe'}</h1>
      ${question}
      <form method="post" action="/unsubscribe/${String(req.params.token)}">
        <button type="submit">${target.topics === null ? 'Unsubscribe from all alerts' : 'Unsubscribe'}</button>
        ${target.topics !== null ? html`<p><label><input type="checkbox" name="scope" value="all"> Unsubscribe from all topics</label></p>` : ''}
      </form>
      <p><a href="${ctx.links.preferencesUrl(target.subscriber.id, ctx.clock.now())}">Change your preferences instead</a></p>`);
  });

  router.post('/unsubscribe/:token', acceptBodies('urlencoded', 'multipart', 'json'), async (req, res) => {
    // RFC 8058: a POST with List-Unsubscribe=One-Click (urlencoded or multipart), no cookie, no
    // CSRF token; 200, never a redirect, and the same answer when repeated.
    const body = (req.body ?? {}) as Record<string, unknown>;
    const oneClick = body['List-Unsubscribe'] === 'One-Click' || req.is('multipart/form-data') !== false;
    const result = await subscriptions.unsubscribe(String(req.params.token), { all: body.scope === 'all', channel: oneClick ? 'one-click' : 'email' }, requestMeta(req));
    if (result.expired) return send(res, 410, 'Link expired', html`<h1>This unsubscribe link has expired</h1><p><a href="/manage">Get a new link to manage your alerts</a>.</p>`);
    if (!result.ok) return send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1>`);
    send(res, 200, 'Unsubscribed', html`<h1>You are unsubscribed</h1><p>${result.all ? 'You will not receive any of our alerts any more.' : 'You will not receive these alerts any more.'}</p>`);
  });

  // ---------------------------------------------------------------- preference centre

  async function withSubscriber(token: string, res: Response): Promise<Subscriber | undefined> {
    const s = await subscriptions.manageSubscriber(token);
    if (s === 'expired') {
      send(res, 410, 'Link expired', html`<h1>This link has expired</h1><p><a href="/manage">Get a new link by email</a>.</p>`);
      return undefined;
    }
    if (!s) {
      send(res, 404, 'Link not valid', html`<h1>This link is not valid</h1><p><a href="/manage">Get a new link by email</a>.</p>`);
      return undefined;
    }
    return s;
  }

  router.get('/preferences/:token', async (req, res) => {
    const subscriber = await withSubscriber(String(req.params.token), res);
    if (!subscriber) return;
    const view = await subscriptions.preferences(subscriber);
    const token = String(req.params.token);
    const sub = (topicId: number) => view.subscriptions.find((s) => s.topicId === topicId);
    const saved = req.query.saved === '1';
    const pausedUntil = subscriber.pausedUntil ? subscriber.pausedUntil.toISOString().slice(0, 10) : '';
    send(res, 200, 'Your alert preferences', html`
      <h1>Your alert preferences</h1>
      ${saved ? html`<p class="callout" role="status">Your preferences are saved.</p>` : ''}
      <form method="post" action="/preferences/${token}">
        <fieldset><legend>Topics</legend>
          <table class="prefs"><thead><tr><th scope="col">Topic</th><th scope="col">Receive</th><th scope="col">How often</th></tr></thead><tbody>
          ${view.topics.map((t) => {
            const s = sub(t.id);
            const on = s?.status === 'active';
            return html`<tr><th scope="row">${t.name}${s?.status === 'pending' ? html` <span class="muted">(awaiting confirmation)</span>` : ''}</th>
              <td><label><input type="checkbox" name="topics" value="${t.slug}" ${on ? 'checked' : ''}><span class="visually-hidden">Receive ${t.name}</span></label></td>
              <td><label class="visually-hidden" for="freq-${t.slug}">How often for ${t.name}</label><select id="freq-${t.slug}" name="frequency_${t.slug}">
                ${FREQUENCIES.map(([v, label]) => html`<option value="${v}" ${v === (s?.frequency ?? 'daily') ? 'selected' : ''}>${label}</option>`)}</select></td></tr>`;
          })}
          </tbody></table>
        </fieldset>
        <fieldset><legend>Delivery time</legend>
          <p><label for="timeZone">Time zone</label><br><input id="timeZone" name="timeZone" value="${subscriber.timeZone}" maxlength="64"></p>
          <p><label for="digestHour">Hour for daily and weekly digests</label><br><select id="digestHour" name="digestHour">
            ${Array.from({ length: 24 }, (_, h) => html`<option value="${h}" ${h === subscriber.digestHour ? 'selected' : ''}>${String(h).padStart(2, '0')}:00</option>`)}</select></p>
          <p><label for="digestWeekday">Day for weekly digests</label><br><select id="digestWeekday" name="digestWeekday">
            ${WEEKDAYS.map((d, i) => html`<option value="${i}" ${i === subscriber.digestWeekday ? 'selected' : ''}>${d}</option>`)}</select></p>
        </fieldset>
        <fieldset><legend>Pause</legend>
          <p><label><input type="radio" name="pause" value="none" ${!subscriber.pausedIndefinitely && !subscriber.pausedUntil ? 'checked' : ''}> Not paused</label></p>
          <p><label><input type="radio" name="pause" value="until" ${subscriber.pausedUntil ? 'checked' : ''}> Paused until</label>
            <label class="visually-hidden" for="pausedUntil">Pause until date</label><input id="pausedUntil" type="date" name="pausedUntil" value="${pausedUntil}"></p>
          <p><label><input type="radio" name="pause" value="indefinitely" ${subscriber.pausedIndefinitely ? 'checked' : ''}> Paused until I resume</label></p>
        </fieldset>
        <p><button type="submit">Save preferences</button></p>
      </form>
      <h2>Leave or take your data</h2>
      <form method="post" action="/preferences/${token}/unsubscribe-all"><p><button type="submit" class="secondary">Unsubscribe from all</button></p></form>
      <p><a href="/preferences/${token}/export" download="my-alerts-data.json">Download my data</a></p>
      <form method="post" action="/preferences/${token}/erase"><p><button type="submit" class="danger">Erase my data…</button></p></form>`);
  });

  router.post('/preferences/:token', acceptBodies('urlencoded'), async (req, res) => {
    const subscriber = await withSubscriber(String(req.params.token), res);
    if (!subscriber) return;
    const b = (req.body ?? {}) as Record<string, unknown>;
    const frequencies: Record<string, Frequency> = {};
    for (const [k, v] of Object.entries(b)) {
      if (k.startsWith('frequency_')) frequencies[k.slice('frequency_'.length)] = frequencySchema.parse(v);
    }
    const timeZone = typeof b.timeZone === 'string' ? b.timeZone.trim() : subscriber.timeZone;
    try {
      new Intl.DateTimeFormat('en', { timeZone });
    } catch {
      throw new DomainError(400, 'invalid_request', 'Unknown time zone', [{ path: 'timeZone', message: 'must be an IANA time zone such as Europe/London' }]);
    }
    const hour = Number(b.digestHour ?? subscriber.digestHour);
    const weekday = Number(b.digestWeekday ?? subscriber.digestWeekday);
    if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new DomainError(400, 'invalid_request', 'Invalid hour', [{ path: 'digestHour', message: 'must be 0 to 23' }]);
    if (!Number.isInteger(weekday) || weekday < 0 || weekday > 6) throw new DomainError(400, 'invalid_request', 'Invalid weekday', [{ path: 'digestWeekday', message: 'must be 0 to 6' }]);
    const pause = b.pause === 'until' || b.pause === 'indefinitely' ? b.pause : 'none';
    let pausedUntil: Date | null = null;
    if (pause === 'until') {
      pausedUntil = typeof b.pausedUntil === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(b.pausedUntil) ? new Date(`${b.pausedUntil}T00:00:00Z`) : null;
      if (!pausedUntil || Number.isNaN(pausedUntil.getTime())) throw new DomainError(400, 'invalid_request', 'Choose the date to pause until', [{ path: 'pausedUntil', message: 'must be a date' }]);
    }
    const changes: PreferenceChanges = { topics: list(b.topics), frequencies, timeZone, digestHour: hour, digestWeekday: weekday, pause, pausedUntil };
    await subscriptions.updatePreferences(subscriber, changes, requestMeta(req));
    // Post/redirect/get: a reload does not resubmit.
    res.redirect(303, `/preferences/${String(req.params.token)}?saved=1`);
  });

  router.post('/preferences/:token/unsubscribe-all', async (req, res) => {
    const subscriber = await withSubscriber(String(req.params.token), res);
    if (!subscriber) return;
    await subscriptions.unsubscribeAll(subscriber, 'preferences', requestMeta(req));
    send(res, 200, 'Unsubscribed', html`<h1>You are unsubscribed from all alerts</h1><p><a href="/preferences/${String(req.params.token)}">Back to your preferences</a></p>`);
  });

  router.get('/preferences/:token/export', async (req, res) => {
    const subscriber = await withSubscriber(String(req.params.token), res);
    if (!subscriber) return;
    const data = await subscriptions.exportData(subscriber.id);
    res.setHeader('Content-Disposition', 'attachment; filename="my-alerts-data.json"');
    res.type('application/json').send(JSON.stringify({ exportedAt: ctx.clock.now().toISOString(), ...data }, null, 2));
  });

  router.post('/preferences/:token/erase', async (req, res) => {
    const subscriber = await withSubscriber(String(req.params.token), res);
    if (!subscriber) return;
    if ((req.body as Record<string, unknown> | undefined)?.confirm !== 'yes') {
      return send(res, 200, 'Erase my data', html`<h1>Erase your data?</h1>
        <p>This deletes your address, your subscriptions and the record of your consent, and stops every alert. It cannot be undone.
        We keep only a one-way fingerprint of your address so that we never email it again.</p>
        <form method="post" action="/preferences/${String(req.params.token)}/erase"><input type="hidden" name="confirm" value="yes">
          <p><button type="submit" class="danger">Yes, erase my data</button> <a href="/preferences/${String(req.params.token)}">Cancel</a></p></form>`);
    }
    await subscriptions.erase(subscriber.id, 'preferences', 'subscriber');
    send(res, 200, 'Erased', html`<h1>Your data is erased</h1><p>You will not receive any more email from us.</p>`);
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
    await subscriptions.requestManageLink(parsed.data.email);
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
