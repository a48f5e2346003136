import type { Request, Response, Router } from 'express';
import { html } from '../../html.js';
import { field, input, issueFor, issuesOf, postButton, type Kit } from '../kit.js';
import { isoTime } from '../layout.js';
import { idParamSchema } from '../../schemas.js';
import { API_SCOPES } from '../../../services/tokens.js';
import type { ApiScope } from '../../../db/types.js';
import { DomainError, type ErrorIssue } from '../../../errors.js';

export function miscRoutes(router: Router, kit: Kit): void {
  const { ctx } = kit;

  // ---------------------------------------------------------------- suppressions

  const suppressionsPage = async (req: Request, res: Response, o: { email?: string; note?: string; issues?: ErrorIssue[]; error?: string; status?: number } = {}) => {
    const list = await ctx.services.admin.suppressions(500);
    const err = (p: string) => issueFor(o.issues ?? [], p);
    kit.render(req, res, {
      status: o.status,
      error: o.error,
      title: 'Suppressions',
      section: 'suppressions',
      body: html`<h1>Suppressions</h1>
<p class="muted">Addresses that must never get mail again, kept only as a keyed hash (HMAC) of the normalised address. Erasures, hard bounces and complaints add to it.</p>
<section aria-labelledby="h-add">
<h2 id="h-add">Suppress an address</h2>
<form method="post" action="/admin/suppressions" novalidate>
<input type="hidden" name="_csrf" value="${res.locals.admin.session.csrfToken}">
${input({ name: 'email', label: 'Email address', type: 'email', value: o.email, required: true, error: err('email'), hint: 'Only its hash is stored.' })}
${input({ name: 'note', label: 'Note', value: o.note, error: err('note'), hint: 'Why, for colleagues (do not repeat the address).' })}
<p><button type="submit">Suppress</button></p>
</form>
</section>
<section aria-labelledby="h-list">
<h2 id="h-list">List (${list.length}${list.length === 500 ? ', newest 500' : ''})</h2>
${list.length === 0
  ? html`<p>Empty.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-list" tabindex="0"><table>
<thead><tr><th scope="col">Hash</th><th scope="col">Reason</th><th scope="col">Note</th><th scope="col">Since</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${list.map((s) => html`<tr><td><code class="hash" title="${s.emailHash}">${s.emailHash.slice(0, 16)}…</code></td><td>${s.reason}</td><td>${s.note ?? ''}</td><td>${isoTime(s.createdAt)}</td>
<td>${postButton(res, { action: '/admin/suppressions/remove', label: 'Remove', className: 'secondary small', fields: { emailHash: s.emailHash }, confirm: s.reason === 'erased' ? 'This address was erased at the reader’s request. Remove the suppression anyway?' : 'Remove this suppression? Mail to the address becomes possible again.' })}</td></tr>`)}</tbody></table></div>`}
</section>`,
    });
  };

  router.get('/suppressions', (req, res) => suppressionsPage(req, res));

  router.post('/suppressions', async (req, res) => {
    const email = field(req, 'email');
    const note = field(req, 'note').slice(0, 500);
    try {
      const r = await ctx.services.admin.addSuppression(email, note || null, kit.actor(res));
      res.redirect(303, `/admin/suppressions?done=${r.added ? 'suppression-added' : 'suppression-exists'}`);
    } catch (err) {
      const e = issuesOf(err);
      await suppressionsPage(req, res, { email, note, issues: e.issues, error: e.message, status: 400 });
    }
  });

  router.post('/suppressions/remove', async (req, res) => {
    const hash = field(req, 'emailHash');
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new DomainError(400, 'invalid_request', 'That is not a suppression hash');
    if (!(await ctx.services.admin.removeSuppression(hash, kit.actor(res)))) throw new DomainError(404, 'not_found', 'That suppression does not exist (any more)');
    res.redirect(303, '/admin/suppressions?done=suppression-removed');
  });

  // ---------------------------------------------------------------- API tokens

  const tokensPage = async (req: Request, res: Response, o: { created?: { token: string; name: string; scopes: string[] }; name?: string; scopes?: string[]; issues?: ErrorIssue[]; error?: string; status?: number } = {}) => {
    const tokens = await ctx.services.tokens.list();
    const err = (p: string) => issueFor(o.issues ?? [], p);
    const chosen = o.scopes ?? ['ingest'];
    kit.render(req, res, {
      status: o.status,
      error: o.error,
      title: 'API tokens',
      section: 'tokens',
      body: html`<h1>API tokens</h1>
${o.created
  ? html`<div class="callout created" role="status"><h2>Token “${o.created.name}” created</h2>
<p>Copy it now: it is shown only once and stored only as a hash.</p>
<p><label for="new-token">Token with scopes ${o.created.scopes.join(', ')}</label><br><input id="new-token" class="token" readonly value="${o.created.token}" data-select-on-focus></p></div>`
  : ''}
<section aria-labelledby="h-create">
<h2 id="h-create">Create a token</h2>
<form method="post" action="/admin/tokens" novalidate>
<input type="hidden" name="_csrf" value="${res.locals.admin.session.csrfToken}">
${input({ name: 'name', label: 'Name', value: o.name, required: true, error: err('name'), hint: 'Who uses it, e.g. "CMS webhook".' })}
<fieldset${err('scopes') ? html` aria-describedby="f-scopes-error"` : ''}><legend>Scopes</legend>
${API_SCOPES.map((s) => html`<p class="checkbox"><input type="checkbox" id="scope-${s}" name="scopes" value="${s}"${chosen.includes(s) ? html` checked` : ''}> <label for="scope-${s}">${s}${s === 'admin' ? ' (everything)' : s === 'ingest' ? ' (post and list articles)' : ' (report bounces)'}</label></p>`)}
${err('scopes') ? html`<p class="error" id="f-scopes-error">${err('scopes')}</p>` : ''}
</fieldset>
<p><button type="submit">Create token</button></p>
</form>
</section>
<section aria-labelledby="h-tokens">
<h2 id="h-tokens">Tokens</h2>
${tokens.length === 0
  ? html`<p>None.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-tokens" tabindex="0"><table><thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead>
<tbody>${tokens.map((t) => html`<tr><th scope="row">${t.name} <span class="muted">#${t.id}</span></th><td>${t.scopes.join(', ')}</td><td>${isoTime(t.createdAt)}</td><td>${isoTime(t.lastUsedAt)}</td>
<td>${t.revokedAt ? html`revoked ${isoTime(t.revokedAt)}` : postButton(res, { action: `/admin/tokens/${t.id}/revoke`, label: 'Revoke', className: 'danger small', confirm: `Revoke the token "${t.name}"? Clients using it stop working at once.` })}</td></tr>`)}</tbody></table></div>`}
</section>`,
    });
  };

  router.get('/tokens', (req, res) => tokensPage(req, res));

  router.post('/tokens', async (req, res) => {
    const name = field(req, 'name');
    const raw = req.body?.scopes;
    const scopes = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((s): s is string => typeof s === 'string');
    const issues: ErrorIssue[] = [];
    if (!name || name.length > 100) issues.push({ path: 'name', message: name ? 'must be at most 100 characters' : 'is required' });
    if (scopes.length === 0 || scopes.some((s) => !API_SCOPES.includes(s as ApiScope))) issues.push({ path: 'scopes', message: 'choose at least one scope' });
    if (issues.length > 0) return tokensPage(req, res, { name, scopes, issues, error: 'Please correct the fields marked below.', status: 400 });
    try {
      const { token, record } = await ctx.services.tokens.create(name, scopes as ApiScope[], kit.actor(res));
      await tokensPage(req, res, { created: { token, name: record.name, scopes: record.scopes } });
    } catch (err) {
      const e = issuesOf(err);
      await tokensPage(req, res, { name, scopes, issues: e.issues, error: e.message, status: 400 });
    }
  });

  router.post('/tokens/:id/revoke', async (req, res) => {
    await ctx.services.admin.revokeToken(idParamSchema.parse(req.params.id), kit.actor(res));
    res.redirect(303, '/admin/tokens?done=token-revoked');
  });

  // ---------------------------------------------------------------- audit log

  router.get('/audit', async (req, res) => {
    const entries = await ctx.services.admin.auditLog(200);
    kit.render(req, res, {
      title: 'Audit log',
      section: 'audit',
      body: html`<h1>Audit log</h1>
<p class="muted">Every change made through the console or the admin API: who, what, when (newest 200).</p>
<div class="table-wrap" role="region" aria-label="Audit log" tabindex="0"><table>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Target</th></tr></thead>
<tbody>${entries.map((e) => html`<tr><td>${isoTime(e.createdAt)}</td><td class="address">${e.actor}</td><td>${e.action}</td><td class="address">${e.target ?? ''}</td></tr>`)}</tbody></table></div>`,
    });
  });
}
