import { Router, type Response } from 'express';
import type { HandlerContext } from '../../context.js';
import { formatDate, html } from '../html.js';
import { acceptBodies, requestMeta } from '../meta.js';
import { slugSchema } from '../schemas.js';
import { preferenceFormSchema, SNOOZE_DAYS } from '../preference-form.js';
import type { Subscriber } from '../../repositories/subscribers.js';
import { FREQUENCIES, pageSender, tokenPageHeaders } from './reader-pages.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const CAPS = [0, 1, 3, 5, 10, 20];
const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

/** The preference centre behind a manage link: topics, frequency, time, pause, export, erasure. */
export function preferencePagesRouter(ctx: HandlerContext): Router {
  const router = Router();
  const { preferences } = ctx.services;
  const send = pageSender(ctx);
  const defaults = ctx.config.attention;
  const publisherName = ctx.config.mail.publisherName;
  router.use('/preferences', tokenPageHeaders);

  // ---------------------------------------------------------------- preference centre

  async function withSubscriber(token: string, res: Response): Promise<Subscriber | undefined> {
    const s = await preferences.manageSubscriber(token);
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
    const view = await preferences.preferences(subscriber);
    const token = String(req.params.token);
    const sub = (topicId: number) => view.subscriptions.find((s) => s.topicId === topicId);
    const saved = req.query.saved === '1';
    const snoozedUntil = subscriber.pausedUntil && subscriber.pausedUntil > ctx.clock.now() ? subscriber.pausedUntil : null;
    const quietChoice = subscriber.quietStart === null || subscriber.quietEnd === null ? 'default' : subscriber.quietStart === subscriber.quietEnd ? 'off' : 'custom';
    const hours = (selected: number) => Array.from({ length: 24 }, (_, h) => html`<option value="${h}" ${h === selected ? 'selected' : ''}>${hh(h)}</option>`);
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
        <fieldset><legend>Snooze all alerts</legend>
          ${snoozedUntil ? html`<p class="callout" role="status">Snoozed until ${formatDate(snoozedUntil, subscriber.timeZone)}.</p>` : ''}
          ${subscriber.pausedIndefinitely ? html`<p class="callout" role="status">Snoozed until you turn alerts back on.</p>` : ''}
          ${snoozedUntil ? html`<p><label><input type="radio" name="snooze" value="keep" checked> Keep snoozed until ${formatDate(snoozedUntil, subscriber.timeZone)}</label></p>` : ''}
          <p><label><input type="radio" name="snooze" value="none" ${!snoozedUntil && !subscriber.pausedIndefinitely ? 'checked' : ''}> Not snoozed</label></p>
          ${SNOOZE_DAYS.map((d) => html`<p><label><input type="radio" name="snooze" value="${d}"> For ${d === 1 ? '1 day' : `${d} days`}</label></p>`)}
          <p><label><input type="radio" name="snooze" value="indefinitely" ${subscriber.pausedIndefinitely ? 'checked' : ''}> Until I turn alerts back on</label></p>
        </fieldset>
        <fieldset><legend>Instant alerts</legend>
          <p class="muted">For topics you get as they happen.</p>
          <p id="quiet-help" class="muted">Quiet hours hold instant alerts until they end${defaults.quietHours ? html` (${publisherName} suggests ${hh(defaults.quietHours.start)}–${hh(defaults.quietHours.end)})` : ''}.</p>
          <p><label><input type="radio" name="quiet" value="default" aria-describedby="quiet-help" ${quietChoice === 'default' ? 'checked' : ''}> ${defaults.quietHours ? html`Quiet from ${hh(defaults.quietHours.start)} to ${hh(defaults.quietHours.end)} (the default)` : 'No quiet hours (the default)'}</label></p>
          ${defaults.quietHours ? html`<p><label><input type="radio" name="quiet" value="off" ${quietChoice === 'off' ? 'checked' : ''}> No quiet hours</label></p>` : ''}
          <p><label><input type="radio" name="quiet" value="custom" ${quietChoice === 'custom' ? 'checked' : ''}> Quiet hours of my own:</label>
            <label for="quietFrom">from</label> <select id="quietFrom" name="quietFrom">${hours(subscriber.quietStart ?? 22)}</select>
            <label for="quietTo">to</label> <select id="quietTo" name="quietTo">${hours(subscriber.quietEnd ?? 7)}</select></p>
          <p><label for="instantCap">Instant alerts a day, at most</label><br><select id="instantCap" name="instantCap" aria-describedby="cap-help">
            <option value="default" ${subscriber.instantDailyCap === null ? 'selected' : ''}>${defaults.instantDailyCap > 0 ? `${defaults.instantDailyCap} (the default)` : 'No limit (the default)'}</option>
            ${CAPS.map((n) => html`<option value="${n}" ${subscriber.instantDailyCap === n ? 'selected' : ''}>${n === 0 ? 'No limit' : n}</option>`)}</select></p>
          <p id="cap-help" class="muted">Alerts over the limit are not lost: they come in your next daily digest.</p>
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
    // Fields the form leaves out keep their stored values.
    const changes = preferenceFormSchema.parse({ timeZone: subscriber.timeZone, digestHour: subscriber.digestHour, digestWeekday: subscriber.digestWeekday, ...(req.body ?? {}) });
    await preferences.updatePreferences(subscriber, changes, requestMeta(req));
    // Post/redirect/get: a reload does not resubmit.
    res.redirect(303, `/preferences/${String(req.params.token)}?saved=1`);
  });

  router.post('/preferences/:token/unsubscribe-all', async (req, res) => {
    const subscriber = await withSubscriber(String(req.params.token), res);
    if (!subscriber) return;
    await preferences.unsubscribeAll(subscriber, 'preferences', requestMeta(req));
    send(res, 200, 'Unsubscribed', html`<h1>You are unsubscribed from all alerts</h1><p><a href="/preferences/${String(req.params.token)}">Back to your preferences</a></p>`);
  });

  router.get('/preferences/:token/export', async (req, res) => {
    const subscriber = await withSubscriber(String(req.params.token), res);
    if (!subscriber) return;
    const data = await preferences.exportData(subscriber.id);
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
    await preferences.erase(subscriber.id, 'preferences', 'subscriber');
    send(res, 200, 'Erased', html`<h1>Your data is erased</h1><p>You will not receive any more email from us.</p>`);
  });

  return router;
}

/** These pages in the OpenAPI document. */
export function describePreferencePages(api: ApiKit): void {
  const { htmlPage, E, formBody, tokenParams, tokenPageErrors, page } = api;

  page('get', '/preferences/{token}', 'Preference centre', { 200: htmlPage('Topics, frequency, delivery time, snooze, quiet hours and the instant-alert cap'), ...tokenPageErrors }, {
    params: tokenParams,
    query: z.object({ saved: z.literal('1').optional() }),
  });
  page('post', '/preferences/{token}', 'Save preferences', { 303: { description: 'Back to the preference centre (saved=1)' }, 400: E[400], ...tokenPageErrors, 415: E[415] }, {
    params: tokenParams,
    ...formBody(
      z.object({
        topics: z.array(slugSchema).optional(),
        timeZone: z.string().optional(),
        digestHour: z.string().optional().meta({ description: '0 to 23' }),
        digestWeekday: z.string().optional().meta({ description: '0 (Sunday) to 6' }),
        snooze: z.enum(['none', 'keep', '1', '7', '30', 'indefinitely']).optional().meta({ description: 'Snooze all alerts for 1, 7 or 30 days, until resumed, or not' }),
        pause: z.enum(['none', 'until', 'indefinitely']).optional().meta({ description: 'Older form of snooze: with pausedUntil' }),
        pausedUntil: z.string().optional().meta({ description: 'YYYY-MM-DD' }),
        quiet: z.enum(['default', 'off', 'custom']).optional().meta({ description: "Quiet hours for instant alerts: the publisher's, none, or quietFrom-quietTo" }),
        quietFrom: z.string().optional().meta({ description: '0 to 23' }),
        quietTo: z.string().optional().meta({ description: '0 to 23' }),
        instantCap: z.string().optional().meta({ description: "Instant alerts a day at most: a number (0: no limit) or default" }),
      }).catchall(z.string()).meta({ description: 'Plus frequency_<slug> = instant | daily | weekly per topic' }),
    ),
  });
  page('post', '/preferences/{token}/unsubscribe-all', 'Unsubscribe from every topic', { 200: htmlPage('Unsubscribed'), ...tokenPageErrors }, { params: tokenParams });
  page(
    'get',
    '/preferences/{token}/export',
    'Download my data',
    { 200: { description: 'JSON attachment', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } }, ...tokenPageErrors },
    { params: tokenParams },
  );
  page('post', '/preferences/{token}/erase', 'Erase my data (asks first; confirm=yes erases)', { 200: htmlPage('The question, or Erased'), ...tokenPageErrors }, {
    params: tokenParams,
    body: { required: false, content: { 'application/x-www-form-urlencoded': { schema: z.object({ confirm: z.literal('yes').optional() }) } } },
  });
}
