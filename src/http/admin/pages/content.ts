import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { html } from '../../html.js';
import { field, input, issueFor, issuesOf, postButton, type Kit } from '../kit.js';
import { isoTime } from '../layout.js';
import { feedCreateSchema, idParamSchema, slugSchema } from '../../schemas.js';
import { decodeCursor, encodeCursor } from '../../views.js';
import type { ErrorIssue } from '../../../errors.js';

const articleQuery = z.object({ topic: z.union([slugSchema, z.literal('')]).optional(), cursor: z.string().max(200).optional() });

export function contentRoutes(router: Router, kit: Kit): void {
  const { ctx } = kit;

  // ---------------------------------------------------------------- articles

  router.get('/articles', async (req, res) => {
    const q = articleQuery.parse(req.query);
    const allTopics = await ctx.services.topics.list();
    const topic = q.topic ? allTopics.find((t) => t.slug === q.topic) : undefined;
    const before = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = q.topic && !topic ? [] : await ctx.services.articles.list({ topic: topic?.slug, before, limit: 31 });
    const page = rows.slice(0, 30);
    const [matched, total] = await Promise.all([ctx.services.articles.matchedTopics(page.map((a) => a.id)), ctx.services.articles.count()]);
    const next = rows.length > 30 ? `/admin/articles?${new URLSearchParams({ ...(topic ? { topic: topic.slug } : {}), cursor: encodeCursor(page[page.length - 1]!) })}` : undefined;
    kit.render(req, res, {
      title: 'Articles',
      section: 'articles',
      body: html`<h1>Articles</h1>
<p class="muted">${total} stored. Articles arrive from feeds and <code>POST /api/v1/articles</code>; each is matched against every active topic once.</p>
<form method="get" action="/admin/articles" class="filters">
<p class="field inline-field"><label for="f-topic">Matched topic</label>
<select id="f-topic" name="topic"><option value="">Any</option>${allTopics.map((t) => html`<option value="${t.slug}"${t.slug === topic?.slug ? html` selected` : ''}>${t.name}${t.status === 'archived' ? ' (archived)' : ''}</option>`)}</select>
<button type="submit" class="secondary">Filter</button></p>
</form>
${page.length === 0
  ? html`<p>No articles${topic ? html` matched ${topic.name}` : ''}.</p>`
  : html`<div class="table-wrap" role="region" aria-label="Articles" tabindex="0"><table>
<thead><tr><th scope="col">Title</th><th scope="col">Published</th><th scope="col">Section / tags</th><th scope="col">Matched topics</th></tr></thead>
<tbody>${page.map(
      (a) => html`<tr><th scope="row"><a href="${a.url}" rel="noopener">${a.title}</a></th><td>${isoTime(a.publishedAt)}</td>
<td>${a.section ?? ''}${a.tags.length > 0 ? html` <span class="muted">${a.tags.join(', ')}</span>` : ''}</td>
<td>${(matched.get(a.id) ?? []).length === 0 ? html`<span class="muted">none</span>` : html`<ul class="chips">${(matched.get(a.id) ?? []).map((t) => html`<li><a href="/admin/topics/${t.slug}">${t.name}</a></li>`)}</ul>`}</td></tr>`,
    )}</tbody></table></div>`}
${next ? html`<p class="pager"><a href="${next}">Older articles</a></p>` : ''}`,
    });
  });

  // ---------------------------------------------------------------- feeds

  const feedsPage = async (req: Request, res: Response, o: { values?: Record<string, string>; issues?: ErrorIssue[]; error?: string; status?: number } = {}) => {
    const feeds = await ctx.services.feeds.list();
    const v = o.values ?? {};
    const err = (p: string) => issueFor(o.issues ?? [], p);
    kit.render(req, res, {
      status: o.status,
      error: o.error,
      title: 'Feeds',
      section: 'feeds',
      body: html`<h1>Feeds</h1>
${feeds.length === 0
  ? html`<p>No feeds yet.</p>`
  : html`<div class="table-wrap" role="region" aria-label="Feeds" tabindex="0"><table>
<thead><tr><th scope="col">Feed</th><th scope="col">Last success</th><th scope="col">Last error</th><th scope="col" class="num">Items seen</th><th scope="col">Next poll</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${feeds.map(
      (f) => html`<tr><th scope="row">${f.name || f.url}<br><a class="small address" href="${f.url}" rel="noopener">${f.url}</a>${f.defaultSection || f.defaultTags.length ? html`<br><span class="muted small">${[f.defaultSection, ...f.defaultTags].filter(Boolean).join(', ')}</span>` : ''}</th>
<td>${isoTime(f.lastSuccessAt)}</td>
<td>${f.lastError ? html`<span class="badge bad">failing ${f.consecutiveFailures}×</span> <span class="error-text">${f.lastError}</span> ${isoTime(f.lastErrorAt)}` : html`<span class="muted">none</span>`}</td>
<td class="num">${f.itemsSeen}</td><td>${isoTime(f.nextPollAt)}</td>
<td>${postButton(res, { action: `/admin/feeds/${f.id}/remove`, label: 'Remove', className: 'danger small', confirm: `Remove the feed ${f.name || f.url}? Its articles stay.` })}</td></tr>`,
    )}</tbody></table></div>`}
<section aria-labelledby="h-add">
<h2 id="h-add">Add a feed</h2>
<form method="post" action="/admin/feeds" novalidate>
<input type="hidden" name="_csrf" value="${res.locals.admin.session.csrfToken}">
${input({ name: 'url', label: 'RSS or Atom URL', type: 'url', value: v.url, required: true, error: err('url') })}
${input({ name: 'name', label: 'Name', value: v.name, error: err('name') })}
${input({ name: 'section', label: 'Section for its articles', value: v.section, error: err('section') })}
${input({ name: 'tags', label: 'Tags for its articles', value: v.tags, error: err('tags'), hint: 'Comma-separated.' })}
<p><button type="submit">Add feed</button></p>
</form>
</section>`,
    });
  };

  router.get('/feeds', (req, res) => feedsPage(req, res));

  router.post('/feeds', async (req, res) => {
    const values = Object.fromEntries(['url', 'name', 'section', 'tags'].map((k) => [k, field(req, k)]));
    try {
      const input = feedCreateSchema.parse({
        url: values.url,
        ...(values.name ? { name: values.name } : {}),
        ...(values.section ? { section: values.section } : {}),
        tags: values.tags!.split(',').map((s) => s.trim()).filter(Boolean),
      });
      await ctx.services.feeds.add(input, kit.actor(res));
      res.redirect(303, '/admin/feeds?done=feed-added');
    } catch (err) {
      const e = issuesOf(err);
      await feedsPage(req, res, { values, issues: e.issues, error: e.message, status: 400 });
    }
  });

  router.post('/feeds/:id/remove', async (req, res) => {
    await ctx.services.feeds.remove(idParamSchema.parse(req.params.id), kit.actor(res));
    res.redirect(303, '/admin/feeds?done=feed-removed');
  });
}
