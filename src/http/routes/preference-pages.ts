import { Router, type Response } from 'express';
import type { HandlerContext } from '../../context.js';
import { DomainError } from '../../errors.js';
import { html } from '../html.js';
import { acceptBodies, requestMeta } from '../meta.js';
import { frequencySchema, slugSchema } from '../schemas.js';
import type { Subscriber } from '../../repositories/subscribers.js';
import type { PreferenceChanges } from '../../services/preferences.js';
import type { Frequency } from '../../db/types.js';
import { FREQUENCIES, list, pageSender, tokenPageHeaders } from './reader-pages.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** The preference centre behind a manage link: topics, frequency, time, pause, export, erasure. */
export function preferencePagesRouter(ctx: HandlerContext): Router {
  const router = Router();
  const { preferences } = ctx.services;
  const send = pageSender(ctx);
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

  page('get', '/preferences/{token}', 'Preference centre', { 200: htmlPage('Topics, frequency, delivery time, pause'), ...tokenPageErrors }, {
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
        pause: z.enum(['none', 'until', 'indefinitely']).optional(),
        pausedUntil: z.string().optional().meta({ description: 'YYYY-MM-DD' }),
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
