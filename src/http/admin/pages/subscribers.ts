import type { Router } from 'express';
import { z } from 'zod';
import { html } from '../../html.js';
import { postButton, type Kit } from '../kit.js';
import { isoTime } from '../layout.js';
import { idParamSchema } from '../../schemas.js';
import { notFound } from '../../../errors.js';
import { exportView } from '../views.js';

const searchQuery = z.object({ q: z.string().max(254).default('') });

export function subscriberRoutes(router: Router, kit: Kit): void {
  const { ctx } = kit;
  const { preferences } = ctx.services;

  const load = async (idParam: unknown) => {
    const id = idParamSchema.parse(idParam);
    const data = await preferences.exportData(id);
    if (!data) throw notFound(`Subscriber ${id}`);
    return data;
  };

  router.get('/subscribers', async (req, res) => {
    const { q } = searchQuery.parse(req.query);
    const term = q.trim();
    const found = term.length >= 2 ? await ctx.services.admin.searchSubscribers(term, 51) : [];
    kit.render(req, res, {
      title: 'Subscribers',
      section: 'subscribers',
      body: html`<h1>Subscribers</h1>
<form method="get" action="/admin/subscribers" role="search" class="filters">
<p class="field inline-field"><label for="f-q">Address contains</label>
<input id="f-q" name="q" type="search" value="${term}" minlength="2" autocomplete="off" spellcheck="false">
<button type="submit">Search</button></p>
</form>
${term.length === 0
  ? html`<p class="muted">Search by a part of the address (at least 2 characters), e.g. a domain.</p>`
  : term.length < 2
    ? html`<p>Type at least 2 characters.</p>`
    : found.length === 0
      ? html`<p role="status">No subscriber's address contains “${term}”.</p>`
      : html`<p role="status">${found.length > 50 ? 'More than 50' : found.length} found${found.length > 50 ? '; showing the newest 50' : ''}.</p>
<div class="table-wrap" role="region" aria-label="Search results" tabindex="0"><table>
<thead><tr><th scope="col">Address</th><th scope="col">Since</th><th scope="col">Paused</th></tr></thead>
<tbody>${found.slice(0, 50).map((s) => html`<tr><th scope="row"><a class="address" href="/admin/subscribers/${s.id}">${s.email}</a></th><td>${isoTime(s.createdAt)}</td><td>${s.pausedIndefinitely ? 'indefinitely' : s.pausedUntil ? isoTime(s.pausedUntil) : html`<span class="muted">no</span>`}</td></tr>`)}</tbody>
</table></div>`}`,
    });
  });

  router.get('/subscribers/:id', async (req, res) => {
    const { subscriber: s, subscriptions: subs, consentEvents, deliveries } = await load(req.params.id);
    const pending = subs.filter((x) => x.status === 'pending').length;
    kit.render(req, res, {
      title: `Subscriber ${s.email}`,
      section: 'subscribers',
      body: html`<h1>Subscriber <span class="address">${s.email}</span></h1>
<dl class="facts">
<dt>Subscriber since</dt><dd>${isoTime(s.createdAt)}</dd>
<dt>Time zone, digest hour</dt><dd>${s.timeZone}, ${String(s.digestHour).padStart(2, '0')}:00 (weekly on day ${s.digestWeekday})</dd>
<dt>Paused</dt><dd>${s.pausedIndefinitely ? 'indefinitely' : s.pausedUntil ? html`until ${isoTime(s.pausedUntil)}` : 'no'}</dd>
${s.declinedUntil ? html`<dt>Declined a confirmation</dt><dd>no confirmation mail until ${isoTime(s.declinedUntil)}</dd>` : ''}
</dl>
<div class="actions">
<form method="post" action="/admin/subscribers/${s.id}/export" class="inline"><input type="hidden" name="_csrf" value="${res.locals.admin.session.csrfToken}"><button type="submit" class="secondary">Export data (JSON)</button></form>
${pending > 0 ? postButton(res, { action: `/admin/subscribers/${s.id}/resend`, label: `Resend confirmation (${pending} pending)`, className: 'secondary' }) : ''}
<a class="button danger" href="/admin/subscribers/${s.id}/erase">Erase…</a>
</div>

<section aria-labelledby="h-subs">
<h2 id="h-subs">Subscriptions</h2>
${subs.length === 0
  ? html`<p>None.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-subs" tabindex="0"><table><thead><tr><th scope="col">Topic</th><th scope="col">Status</th><th scope="col">Frequency</th><th scope="col">Requested</th><th scope="col">Confirmed</th><th scope="col">Unsubscribed</th></tr></thead>
<tbody>${subs.map((x) => html`<tr><th scope="row"><a href="/admin/topics/${x.topicSlug}">${x.topicName}</a>${x.topicStatus === 'archived' ? html` <span class="badge">archived</span>` : ''}</th><td><span class="badge sub-${x.status}">${x.status}</span></td><td>${x.frequency}</td><td>${isoTime(x.requestedAt)}</td><td>${isoTime(x.confirmedAt)}</td><td>${isoTime(x.unsubscribedAt)}</td></tr>`)}</tbody></table></div>`}
</section>

<section aria-labelledby="h-consent">
<h2 id="h-consent">Consent history</h2>
${consentEvents.length === 0
  ? html`<p>None recorded.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-consent" tabindex="0"><table class="consent">
<thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Topics</th><th scope="col">Terms</th><th scope="col">Text shown</th><th scope="col">Source</th><th scope="col">IP / user agent</th></tr></thead>
<tbody>${consentEvents.map(
      (e) => html`<tr><td>${isoTime(e.createdAt)}</td><th scope="row">${e.action}</th><td>${e.topics.join(', ')}</td>
<td>${e.termsVersion ? html`<a href="/terms/${e.termsVersion}">v${e.termsVersion}</a>` : html`<span class="muted">—</span>`}${e.termsSha256 ? html`<br><code class="hash" title="SHA-256 of the terms text">${e.termsSha256.slice(0, 12)}…</code>` : ''}</td>
<td>${e.consentText ? html`“${e.consentText}”${e.consentMode ? html` <span class="muted">(${e.consentMode})</span>` : ''}` : html`<span class="muted">—</span>`}</td>
<td>${e.form ?? ''}${e.sourceUrl ? html`<br><span class="small break">${e.sourceUrl}</span>` : ''}</td>
<td>${e.ip ?? ''}${e.userAgent ? html`<br><span class="small muted break">${e.userAgent}</span>` : ''}</td></tr>`,
    )}</tbody></table></div>`}
</section>

<section aria-labelledby="h-deliveries">
<h2 id="h-deliveries">Deliveries</h2>
${deliveries.length === 0
  ? html`<p>None.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-deliveries" tabindex="0"><table><thead><tr><th scope="col">#</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Sent</th><th scope="col">Last error</th></tr></thead>
<tbody>${deliveries.slice(0, 100).map((d) => html`<tr><td>${d.id}</td><td>${d.kind}</td><td><span class="badge status-${d.status}">${d.status}</span></td><td>${isoTime(d.createdAt)}</td><td>${isoTime(d.sentAt)}</td><td>${d.lastError ? html`<span class="error-text">${d.lastError.slice(0, 200)}</span>` : ''}</td></tr>`)}</tbody></table></div>`}
</section>`,
    });
  });

  // A download of everything stored (the reader's right of access, answered by an admin).
  router.post('/subscribers/:id/export', async (req, res) => {
    const data = await load(req.params.id);
    await ctx.services.admin.recordExport(data.subscriber.id, kit.actor(res));
    res
      .setHeader('Content-Disposition', `attachment; filename="subscriber-${data.subscriber.id}.json"`)
      .type('application/json')
      .send(JSON.stringify(exportView(data, ctx.clock.now()), null, 2));
  });

  router.post('/subscribers/:id/resend', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    const r = await ctx.services.admin.resendConfirmation(id, kit.actor(res));
    res.redirect(303, `/admin/subscribers/${id}?done=${r.queued ? 'confirmation-queued' : r.reason}`);
  });

  router.get('/subscribers/:id/erase', async (req, res) => {
    const { subscriber: s, subscriptions: subs, consentEvents } = await load(req.params.id);
    kit.render(req, res, {
      title: `Erase ${s.email}`,
      section: 'subscribers',
      body: html`<h1>Erase <span class="address">${s.email}</span>?</h1>
<div class="callout warning">
<p>Erasure cannot be undone. It deletes the address, ${subs.length} subscription${subs.length === 1 ? '' : 's'} and ${consentEvents.length} consent record${consentEvents.length === 1 ? '' : 's'}, cancels queued mail, and keeps only a keyed hash of the address in the suppression list so it is never mailed again.</p>
<p>Export the data first if the reader asked for a copy.</p>
</div>
<form method="post" action="/admin/subscribers/${s.id}/erase">
<input type="hidden" name="_csrf" value="${res.locals.admin.session.csrfToken}">
<p class="actions"><button type="submit" class="danger">Erase this subscriber</button> <a href="/admin/subscribers/${s.id}">Cancel</a></p>
</form>`,
    });
  });

  router.post('/subscribers/:id/erase', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    if (!(await preferences.erase(id, 'admin', kit.actor(res)))) throw notFound(`Subscriber ${id}`);
    res.redirect(303, '/admin/subscribers?done=erased');
  });
}
