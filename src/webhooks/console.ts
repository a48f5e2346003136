import type { Request, Response, Router } from 'express';
import { html, type SafeHtml } from '../http/html.js';
import { field, input, issueFor, issuesOf, postButton, type Kit } from '../http/admin/kit.js';
import { isoTime } from '../http/admin/layout.js';
import { idParamSchema } from '../http/schemas.js';
import type { ErrorIssue } from '../errors.js';
import { WEBHOOK_EVENT_TYPES } from './events.js';
import { webhookCreateSchema } from './routes.js';
import type { WebhookEndpoint } from './repository.js';

// The console's webhooks: the endpoints with their state (and why one was disabled), a form
// to add one (its secret shown once, on the page that answers the form), and per endpoint the
// recent events with their attempts (status, time, duration, a capped answer) and a replay.

const RESPONSE_SHOWN = 500;

function formEvents(req: Request): string[] {
  const v = (req.body as Record<string, unknown> | undefined)?.events;
  return (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []).filter((x): x is string => typeof x === 'string');
}

const state = (e: WebhookEndpoint): SafeHtml =>
  e.active ? html`<span class="badge ok">active</span>` : e.disabledReason ? html`<span class="badge bad">disabled</span> ${e.disabledReason}` : html`<span class="badge">paused</span>`;

export function webhookRoutes(router: Router, kit: Kit): void {
  const webhooks = kit.ctx.services.webhooks;

  const secretNotice = (secret: string, what: string) => html`<section aria-labelledby="h-secret" class="notice">
<h2 id="h-secret">${what}</h2>
<p>Copy the signing secret now; it is not shown again. Receivers verify each request's <code>webhook-signature</code> with it (any Standard Webhooks library does).</p>
<p><code class="break">${secret}</code></p></section>`;

  const listPage = async (req: Request, res: Response, o: { values?: { url: string; description: string; events: string[] }; issues?: ErrorIssue[]; error?: string; status?: number; secret?: string } = {}) => {
    const list = await webhooks.list();
    const err = (p: string) => issueFor(o.issues ?? [], p);
    const chosen = new Set(o.values?.events ?? WEBHOOK_EVENT_TYPES);
    kit.render(req, res, {
      status: o.status,
      error: o.error,
      title: 'Webhooks',
      section: 'webhooks',
      body: html`<h1>Webhooks</h1>
<p class="muted">Signed events (Standard Webhooks) for your CRM, warehouse or paywall: each is sent from the outbox by the worker, retried with back-off for about a day, then the endpoint is disabled with the reason. Each subscriber's events arrive in order; <code>webhook-id</code> stays the same on every retry.</p>
${o.secret ? secretNotice(o.secret, 'Endpoint added') : ''}
${list.length === 0
  ? html`<p>No endpoints yet.</p>`
  : html`<div class="table-wrap" role="region" aria-label="Endpoints" tabindex="0"><table>
<thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Added</th></tr></thead>
<tbody>${list.map((e) => html`<tr><th scope="row" class="break"><a href="/admin/webhooks/${e.id}">${e.url}</a>${e.description ? html` <span class="muted">${e.description}</span>` : ''}</th>
<td>${e.events.length === WEBHOOK_EVENT_TYPES.length ? 'all' : e.events.join(', ')}</td><td>${state(e)}</td><td>${isoTime(e.createdAt)}</td></tr>`)}</tbody></table></div>`}
<section aria-labelledby="h-add"><h2 id="h-add">Add an endpoint</h2>
<form method="post" action="/admin/webhooks" novalidate>
<input type="hidden" name="_csrf" value="${res.locals.admin.session.csrfToken}">
${input({ name: 'url', label: 'URL', type: 'url', value: o.values?.url, required: true, error: err('url'), hint: 'https://… of your receiver. Private and loopback addresses need WEBHOOK_ALLOW_PRIVATE=true; link-local ones are never allowed.' })}
${input({ name: 'description', label: 'Description', value: o.values?.description, error: err('description') })}
<fieldset><legend>Events</legend>${err('events') ? html`<p class="error">${err('events')}</p>` : ''}
${WEBHOOK_EVENT_TYPES.map((t) => html`<p class="checkbox"><input type="checkbox" id="ev-${t}" name="events" value="${t}"${chosen.has(t) ? html` checked` : ''}> <label for="ev-${t}"><code>${t}</code></label></p>`)}</fieldset>
<p><button type="submit">Add endpoint</button></p>
</form></section>`,
    });
  };

  router.get('/webhooks', (req, res) => listPage(req, res));

  router.post('/webhooks', async (req, res) => {
    const values = { url: field(req, 'url'), description: field(req, 'description'), events: formEvents(req) };
    try {
      const { secret } = await webhooks.create(webhookCreateSchema.parse(values), kit.actor(res));
      await listPage(req, res, { secret });
    } catch (err) {
      const e = issuesOf(err);
      await listPage(req, res, { values, issues: e.issues, error: e.message, status: 400 });
    }
  });

  const detailPage = async (req: Request, res: Response, id: number, o: { secret?: string } = {}) => {
    const { endpoint: e, messages, attempts, counts } = await webhooks.activity(id, 50);
    kit.render(req, res, {
      title: `Webhook ${e.url}`,
      section: 'webhooks',
      body: html`<h1 class="break">${e.url}</h1>
${o.secret ? secretNotice(o.secret, 'New secret') : ''}
<p>${state(e)} ${e.description ? html`<span class="muted">${e.description}</span>` : ''}</p>
<p>Events: ${e.events.map((t) => html`<code>${t}</code> `)}</p>
<p>Queue: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ') || 'empty'}.${e.previousSecret && e.previousSecretExpiresAt && e.previousSecretExpiresAt > kit.ctx.clock.now() ? html` The previous secret signs too until ${isoTime(e.previousSecretExpiresAt)}.` : ''}</p>
<p>${postButton(res, { action: `/admin/webhooks/${e.id}/active`, label: e.active ? 'Pause' : 'Enable (resumes waiting events in order)', fields: { active: e.active ? 'false' : 'true' } })}
${postButton(res, { action: `/admin/webhooks/${e.id}/rotate`, label: 'Rotate secret', className: 'secondary', confirm: 'Make a new secret? The current one keeps signing too for the grace period.' })}
${postButton(res, { action: `/admin/webhooks/${e.id}/delete`, label: 'Delete', className: 'danger', confirm: 'Delete this endpoint and its queue?' })}</p>
<section aria-labelledby="h-events"><h2 id="h-events">Recent events</h2>
${messages.length === 0
  ? html`<p>None yet.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-events" tabindex="0"><table>
<thead><tr><th scope="col">Event</th><th scope="col">webhook-id</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">Queued</th><th scope="col">Last error</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${messages.map((m) => html`<tr><th scope="row"><code>${m.type}</code></th><td><code>${m.eventId}</code></td>
<td>${m.status}${m.status === 'pending' && m.attempts > 0 ? html` (next ${isoTime(m.nextAttemptAt)})` : ''}${m.deliveredAt ? html` ${isoTime(m.deliveredAt)}` : ''}</td>
<td class="num">${m.attempts}</td><td>${isoTime(m.createdAt)}</td><td class="break">${m.lastError ?? ''}</td>
<td>${postButton(res, { action: `/admin/webhooks/${e.id}/replay`, label: 'Replay', className: 'secondary small', fields: { messageId: m.id } })}</td></tr>`)}</tbody></table></div>`}
</section>
<section aria-labelledby="h-attempts"><h2 id="h-attempts">Attempts</h2>
${attempts.length === 0
  ? html`<p>None yet.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-attempts" tabindex="0"><table>
<thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col" class="num">Attempt</th><th scope="col">Status</th><th scope="col" class="num">ms</th><th scope="col">Answer</th></tr></thead>
<tbody>${attempts.map((a) => html`<tr><td>${isoTime(a.createdAt)}</td><td><code>${a.type}</code> <code class="muted">${a.eventId}</code></td><td class="num">${a.attempt}</td>
<td>${a.ok ? 'delivered' : 'failed'} ${a.statusCode ?? ''}${a.error ? html` <span class="muted">${a.error}</span>` : ''}</td><td class="num">${a.durationMs}</td>
<td class="break"><code>${(a.responseBody ?? '').slice(0, RESPONSE_SHOWN)}${(a.responseBody?.length ?? 0) > RESPONSE_SHOWN ? '…' : ''}</code></td></tr>`)}</tbody></table></div>`}
</section>
<p><a href="/admin/webhooks">All webhooks</a></p>`,
    });
  };

  router.get('/webhooks/:id', (req, res) => detailPage(req, res, idParamSchema.parse(req.params.id)));

  router.post('/webhooks/:id/active', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    await webhooks.update(id, { active: field(req, 'active') === 'true' }, kit.actor(res));
    res.redirect(303, `/admin/webhooks/${id}?done=webhook-saved`);
  });

  router.post('/webhooks/:id/rotate', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    const { secret } = await webhooks.rotateSecret(id, kit.actor(res));
    await detailPage(req, res, id, { secret });
  });

  router.post('/webhooks/:id/delete', async (req, res) => {
    await webhooks.remove(idParamSchema.parse(req.params.id), kit.actor(res));
    res.redirect(303, '/admin/webhooks?done=webhook-deleted');
  });

  router.post('/webhooks/:id/replay', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    await webhooks.replay(id, idParamSchema.parse(field(req, 'messageId')), kit.actor(res));
    res.redirect(303, `/admin/webhooks/${id}?done=webhook-replayed`);
  });
}
