import { Router, type Request, type Response } from 'express';
import type { HandlerContext } from '../../context.js';
import { html } from '../html.js';
import { acceptBodies, requestMeta } from '../meta.js';
import { slugSchema } from '../schemas.js';
import { preferenceFormSchema, SNOOZE_DAYS } from '../preference-form.js';
import type { Subscriber } from '../../repositories/subscribers.js';
import { readerPages, tokenPageHeaders, type ReaderPage } from './reader-pages.js';
import { isLanguage, LANGUAGE_NAMES, LANGUAGES } from '../../i18n/languages.js';
import { z } from 'zod';
import { type ApiKit } from '../openapi/kit.js';

const CAPS = [0, 1, 3, 5, 10, 20];
const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

/** The week's days in a language, Sunday first (2023-01-01 was a Sunday). */
const weekdays = (lang: string) => Array.from({ length: 7 }, (_, i) => new Intl.DateTimeFormat(lang, { weekday: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2023, 0, 1 + i))));

/** The preference centre behind a manage link: topics, frequency, language, time, pause, export, erasure. */
export function preferencePagesRouter(ctx: HandlerContext): Router {
  const router = Router();
  const { preferences } = ctx.services;
  const readerPage = readerPages(ctx);
  const defaults = ctx.config.attention;
  const publisherName = ctx.config.mail.publisherName;
  router.use('/preferences', tokenPageHeaders);

  // ---------------------------------------------------------------- preference centre

  async function withSubscriber(req: Request, res: Response): Promise<{ subscriber: Subscriber; p: ReaderPage } | undefined> {
    const s = await preferences.manageSubscriber(String(req.params.token));
    const p = await readerPage(req, { subscriberLanguage: s && s !== 'expired' ? s.language : null });
    if (s === 'expired') {
      p.send(res, 410, p.t('link.expired.title'), html`<h1>${p.t('prefs.expired.heading')}</h1><p><a href="${p.href('/manage')}">${p.t('prefs.newLink')}</a>.</p>`);
      return undefined;
    }
    if (!s) {
      p.send(res, 404, p.t('link.invalid.title'), html`<h1>${p.t('link.invalid.heading')}</h1><p><a href="${p.href('/manage')}">${p.t('prefs.newLink')}</a>.</p>`);
      return undefined;
    }
    return { subscriber: s, p };
  }

  router.get('/preferences/:token', async (req, res) => {
    const found = await withSubscriber(req, res);
    if (!found) return;
    const { subscriber, p } = found;
    const view = await preferences.preferences(subscriber);
    const token = String(req.params.token);
    const sub = (topicId: number) => view.subscriptions.find((s) => s.topicId === topicId);
    const saved = req.query.saved === '1';
    const snoozedUntil = subscriber.pausedUntil && subscriber.pausedUntil > ctx.clock.now() ? subscriber.pausedUntil : null;
    const until = snoozedUntil ? p.date(snoozedUntil, subscriber.timeZone) : '';
    const quietChoice = subscriber.quietStart === null || subscriber.quietEnd === null ? 'default' : subscriber.quietStart === subscriber.quietEnd ? 'off' : 'custom';
    const hours = (selected: number) => Array.from({ length: 24 }, (_, h) => html`<option value="${h}" ${h === selected ? 'selected' : ''}>${hh(h)}</option>`);
    const suggested = defaults.quietHours && { from: hh(defaults.quietHours.start), to: hh(defaults.quietHours.end), publisherName };
    const mailLanguage = isLanguage(subscriber.language) ? subscriber.language : ctx.config.defaultLanguage;
    p.send(res, 200, p.t('prefs.title'), html`
      <h1>${p.t('prefs.title')}</h1>
      ${saved ? html`<p class="callout" role="status">${p.t('prefs.saved')}</p>` : ''}
      <form method="post" action="${p.href(`/preferences/${token}`)}">
        <input type="hidden" name="shownIn" value="${p.lang}">
        <fieldset><legend>${p.t('box.topics')}</legend>
          <table class="prefs"><thead><tr><th scope="col">${p.t('prefs.topic')}</th><th scope="col">${p.t('prefs.receive')}</th><th scope="col">${p.t('box.frequency')}</th></tr></thead><tbody>
          ${view.topics.map((t) => {
            const s = sub(t.id);
            const on = s?.status === 'active';
            const name = p.topics([t]);
            return html`<tr><th scope="row">${name}${s?.status === 'pending' ? html` <span class="muted">${p.t('prefs.pending')}</span>` : ''}</th>
              <td><label><input type="checkbox" name="topics" value="${t.slug}" ${on ? 'checked' : ''}><span class="visually-hidden">${p.t('prefs.receiveTopic', { topic: name })}</span></label></td>
              <td><label class="visually-hidden" for="freq-${t.slug}">${p.t('prefs.howOftenTopic', { topic: name })}</label><select id="freq-${t.slug}" name="frequency_${t.slug}">
                ${p.frequencies.map(([v, label]) => html`<option value="${v}" ${v === (s?.frequency ?? 'daily') ? 'selected' : ''}>${label}</option>`)}</select></td></tr>`;
          })}
          </tbody></table>
        </fieldset>
        <fieldset><legend>${p.t('prefs.language')}</legend>
          <p><label for="language">${p.t('prefs.languageLabel')}</label><br><select id="language" name="language">
            ${LANGUAGES.map((l) => html`<option value="${l}" lang="${l}" ${l === mailLanguage ? 'selected' : ''}>${LANGUAGE_NAMES[l]}</option>`)}</select></p>
        </fieldset>
        <fieldset><legend>${p.t('prefs.delivery')}</legend>
          <p><label for="timeZone">${p.t('prefs.timeZone')}</label><br><input id="timeZone" name="timeZone" value="${subscriber.timeZone}" maxlength="64" dir="ltr"></p>
          <p><label for="digestHour">${p.t('prefs.digestHour')}</label><br><select id="digestHour" name="digestHour">
            ${Array.from({ length: 24 }, (_, h) => html`<option value="${h}" ${h === subscriber.digestHour ? 'selected' : ''}>${hh(h)}</option>`)}</select></p>
          <p><label for="digestWeekday">${p.t('prefs.digestWeekday')}</label><br><select id="digestWeekday" name="digestWeekday">
            ${weekdays(p.lang).map((d, i) => html`<option value="${i}" ${i === subscriber.digestWeekday ? 'selected' : ''}>${d}</option>`)}</select></p>
        </fieldset>
        <fieldset><legend>${p.t('prefs.snooze')}</legend>
          ${snoozedUntil ? html`<p class="callout" role="status">${p.t('prefs.snoozedUntil', { until })}</p>` : ''}
          ${subscriber.pausedIndefinitely ? html`<p class="callout" role="status">${p.t('prefs.snoozedIndefinitely')}</p>` : ''}
          ${snoozedUntil ? html`<p><label><input type="radio" name="snooze" value="keep" checked> ${p.t('prefs.keepSnoozed', { until })}</label></p>` : ''}
          <p><label><input type="radio" name="snooze" value="none" ${!snoozedUntil && !subscriber.pausedIndefinitely ? 'checked' : ''}> ${p.t('prefs.notSnoozed')}</label></p>
          ${SNOOZE_DAYS.map((d) => html`<p><label><input type="radio" name="snooze" value="${d}"> ${p.t('prefs.snoozeFor', { days: d })}</label></p>`)}
          <p><label><input type="radio" name="snooze" value="indefinitely" ${subscriber.pausedIndefinitely ? 'checked' : ''}> ${p.t('prefs.snoozeIndefinitely')}</label></p>
        </fieldset>
        <fieldset><legend>${p.t('prefs.instant')}</legend>
          <p class="muted">${p.t('prefs.instantHelp')}</p>
          <p id="quiet-help" class="muted">${suggested ? p.t('prefs.quietHelpSuggested', suggested) : p.t('prefs.quietHelp')}</p>
          <p><label><input type="radio" name="quiet" value="default" aria-describedby="quiet-help" ${quietChoice === 'default' ? 'checked' : ''}> ${suggested ? p.t('prefs.quietDefault', suggested) : p.t('prefs.noQuietDefault')}</label></p>
          ${suggested ? html`<p><label><input type="radio" name="quiet" value="off" ${quietChoice === 'off' ? 'checked' : ''}> ${p.t('prefs.noQuiet')}</label></p>` : ''}
          <p><label><input type="radio" name="quiet" value="custom" ${quietChoice === 'custom' ? 'checked' : ''}> ${p.t('prefs.quietCustom')}</label>
            <label for="quietFrom">${p.t('prefs.quietFrom')}</label> <select id="quietFrom" name="quietFrom">${hours(subscriber.quietStart ?? 22)}</select>
            <label for="quietTo">${p.t('prefs.quietTo')}</label> <select id="quietTo" name="quietTo">${hours(subscriber.quietEnd ?? 7)}</select></p>
          <p><label for="instantCap">${p.t('prefs.cap')}</label><br><select id="instantCap" name="instantCap" aria-describedby="cap-help">
            <option value="default" ${subscriber.instantDailyCap === null ? 'selected' : ''}>${defaults.instantDailyCap > 0 ? p.t('prefs.capDefault', { count: defaults.instantDailyCap }) : p.t('prefs.noLimitDefault')}</option>
            ${CAPS.map((n) => html`<option value="${n}" ${subscriber.instantDailyCap === n ? 'selected' : ''}>${n === 0 ? p.t('prefs.noLimit') : new Intl.NumberFormat(p.lang).format(n)}</option>`)}</select></p>
          <p id="cap-help" class="muted">${p.t('prefs.capHelp')}</p>
        </fieldset>
        <p><button type="submit">${p.t('prefs.save')}</button></p>
      </form>
      <h2>${p.t('prefs.leave')}</h2>
      <form method="post" action="${p.href(`/preferences/${token}/unsubscribe-all`)}"><p><button type="submit" class="secondary">${p.t('prefs.unsubscribeAll')}</button></p></form>
      <p><a href="/preferences/${token}/export" download="my-alerts-data.json">${p.t('prefs.download')}</a></p>
      <form method="post" action="${p.href(`/preferences/${token}/erase`)}"><p><button type="submit" class="danger">${p.t('prefs.erase')}</button></p></form>`);
  });

  router.post('/preferences/:token', acceptBodies('urlencoded'), async (req, res) => {
    const found = await withSubscriber(req, res);
    if (!found) return;
    const { subscriber } = found;
    // Fields the form leaves out keep their stored values.
    const changes = preferenceFormSchema.parse({ timeZone: subscriber.timeZone, digestHour: subscriber.digestHour, digestWeekday: subscriber.digestWeekday, ...(req.body ?? {}) });
    await preferences.updatePreferences(subscriber, changes, requestMeta(req));
    // Post/redirect/get: a reload does not resubmit. The next page is in the language just
    // chosen (a `?lang=` the reader came with would otherwise win over it).
    res.redirect(303, `/preferences/${String(req.params.token)}?saved=1`);
  });

  router.post('/preferences/:token/unsubscribe-all', async (req, res) => {
    const found = await withSubscriber(req, res);
    if (!found) return;
    const { subscriber, p } = found;
    await preferences.unsubscribeAll(subscriber, 'preferences', requestMeta(req));
    p.send(res, 200, p.t('unsubscribe.done.title'), html`<h1>${p.t('prefs.unsubscribed.heading')}</h1><p><a href="${p.href(`/preferences/${String(req.params.token)}`)}">${p.t('prefs.back')}</a></p>`);
  });

  router.get('/preferences/:token/export', async (req, res) => {
    const found = await withSubscriber(req, res);
    if (!found) return;
    const data = await preferences.exportData(found.subscriber.id);
    res.setHeader('Content-Disposition', 'attachment; filename="my-alerts-data.json"');
    res.type('application/json').send(JSON.stringify({ exportedAt: ctx.clock.now().toISOString(), ...data }, null, 2));
  });

  router.post('/preferences/:token/erase', async (req, res) => {
    const found = await withSubscriber(req, res);
    if (!found) return;
    const { subscriber, p } = found;
    const token = String(req.params.token);
    if ((req.body as Record<string, unknown> | undefined)?.confirm !== 'yes') {
      return p.send(res, 200, p.t('erase.title'), html`<h1>${p.t('erase.heading')}</h1>
        <p>${p.t('erase.body')}</p>
        <form method="post" action="${p.href(`/preferences/${token}/erase`)}"><input type="hidden" name="confirm" value="yes">
          <p><button type="submit" class="danger">${p.t('erase.yes')}</button> <a href="${p.href(`/preferences/${token}`)}">${p.t('erase.cancel')}</a></p></form>`);
    }
    await preferences.erase(subscriber.id, 'preferences', 'subscriber');
    p.send(res, 200, p.t('erase.done.title'), html`<h1>${p.t('erase.done.heading')}</h1><p>${p.t('erase.done.body')}</p>`);
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
