import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { html, type SafeHtml } from '../../html.js';
import { field, input, issueFor, issuesOf, postButton, textarea, type Kit } from '../kit.js';
import { fmtNum, isoTime } from '../layout.js';
import { slugSchema, topicCreateSchema, topicPatchSchema } from '../../schemas.js';
import type { Topic } from '../../../repositories/topics.js';
import type { QueryTestResult } from '../../../services/topics.js';
import type { ErrorIssue } from '../../../errors.js';
import { DomainError } from '../../../errors.js';
import { LANGUAGES, LANGUAGE_NAMES, dirOf, languageName } from '../../../i18n/languages.js';

// A topic's name in the other languages we ship (the main name is the fallback for any left empty).
const NAME_LANGUAGES = LANGUAGES.filter((l) => l !== 'en');
const NAME_FIELDS = NAME_LANGUAGES.map((l) => `name_${l}`);

const DAY_CHOICES = [7, 30, 90, 365];
const testQuery = z.object({
  query: z.string().max(2000).default(''),
  days: z.coerce.number().int().min(1).max(3650).optional(),
});

interface FormState {
  values: Record<string, string>;
  issues: ErrorIssue[];
  message?: string;
  test?: QueryTestResult;
  testError?: { message: string; column?: number };
}

/** The form fields as the service wants them (checkbox → boolean, number field → number). */
function formFields(req: Request) {
  const priority = field(req, 'promptPriority');
  return {
    name: field(req, 'name'),
    names: Object.fromEntries(NAME_LANGUAGES.map((l) => [l, field(req, `name_${l}`)]).filter(([, n]) => n !== '')),
    description: field(req, 'description'),
    query: field(req, 'query'),
    promptPriority: priority === '' ? 0 : Number(priority),
    promptHidden: field(req, 'promptHidden') === 'on',
  };
}
const createInput = (req: Request) => topicCreateSchema.parse({ slug: field(req, 'slug'), ...formFields(req) });
const patchInput = (req: Request) => topicPatchSchema.parse(formFields(req));

function testResults(state: FormState): SafeHtml {
  if (state.testError) {
    return html`<p class="error" role="alert">${state.testError.message}${state.testError.column ? html` (column ${state.testError.column})` : ''}</p>`;
  }
  const t = state.test;
  if (!t) return html`<p class="muted">Test the query to see which recent articles it matches.</p>`;
  return html`<p><strong>${fmtNum(t.count)}</strong> matching article${t.count === 1 ? '' : 's'} in the last ${t.days} days${t.truncated ? ' (only the newest candidates were checked)' : ''}. Normalised query: <code>${t.normalizedQuery}</code></p>
${t.matches.length > 0 ? html`<ol class="test-matches">${t.matches.map((a) => html`<li><a href="${a.url}" rel="noopener">${a.title}</a> <span class="muted">${isoTime(a.publishedAt)}</span></li>`)}</ol>` : ''}`;
}

function topicForm(res: Response, o: { topic?: Topic; state: FormState; action: string; submitLabel: string }): SafeHtml {
  const v = o.state.values;
  const err = (p: string) => issueFor(o.state.issues, p);
  const days = Number(v.days) || 30;
  return html`<form method="post" action="${o.action}" class="topic-form" data-query-test="/admin/topics/test.json" novalidate>
<input type="hidden" name="_csrf" value="${res.locals.admin.session.csrfToken}">
${input({ name: 'name', label: 'Name', value: v.name, required: true, error: err('name'), hint: 'What readers see, e.g. "Japan".' })}
${o.topic
  ? html`<p class="field"><span class="label">Slug</span> <code>${o.topic.slug}</code> <span class="hint">(fixed: it is in widget embeds and links)</span></p>`
  : input({ name: 'slug', label: 'Slug', value: v.slug, required: true, error: err('slug'), hint: 'Lower-case letters, digits and hyphens; used in embeds: data-topics="japan".', attrs: html`pattern="[a-z0-9]+(-[a-z0-9]+)*" autocapitalize="off" spellcheck="false"` })}
${textarea({ name: 'description', label: 'Description', value: v.description, rows: 2, error: err('description') })}
<details${NAME_FIELDS.some((f) => v[f]) ? html` open` : ''}><summary>Name in other languages</summary>
<p class="hint">Readers whose language is one of these see this name in the box, the pages and their mail; empty: the name above.</p>
${NAME_LANGUAGES.map((l) => input({ name: `name_${l}`, label: `${languageName(l, 'en')} (${LANGUAGE_NAMES[l]})`, value: v[`name_${l}`], error: err(`names.${l}`), attrs: html`lang="${l}" dir="${dirOf(l)}"` }))}
</details>
<fieldset class="query-box">
<legend>Query</legend>
${input({
  name: 'query',
  label: 'Match rule',
  value: v.query,
  required: true,
  error: err('query'),
  hint: html`Words, <code>"exact phrases"</code>, <code>OR</code>, <code>-exclusion</code>, parentheses, <code>tag:</code>, <code>section:</code>, <code>lang:</code>. Example: <code>japan OR tokyo -"baseball"</code>`,
  attrs: html`autocomplete="off" spellcheck="false" data-query-input`,
})}
<p class="field inline-field"><label for="f-days">Test against the last</label>
<select id="f-days" name="days">${DAY_CHOICES.map((d) => html`<option value="${d}"${d === days ? html` selected` : ''}>${d} days</option>`)}</select>
<button type="submit" name="intent" value="test" class="secondary" data-action="test">Test query</button></p>
<div id="query-test-results" class="test-results" aria-live="polite" aria-atomic="true" data-test-results>${testResults(o.state)}</div>
</fieldset>
<details${v.promptPriority && v.promptPriority !== '0' || v.promptHidden === 'on' ? html` open` : ''}><summary>Signup box</summary>
${input({ name: 'promptPriority', label: 'Prompt priority', type: 'number', value: v.promptPriority ?? '0', error: err('promptPriority'), hint: 'Higher comes first when an article matches several topics; 100 or more pins the topic.', attrs: html`min="-1000" max="1000" step="1"` })}
<p class="field checkbox"><input type="checkbox" id="f-promptHidden" name="promptHidden"${v.promptHidden === 'on' ? html` checked` : ''}> <label for="f-promptHidden">Never offer this topic in the signup box (readers can still choose it on the hosted page)</label></p>
</details>
<p class="actions"><button type="submit" name="intent" value="save">${o.submitLabel}</button> <a href="/admin/topics">Cancel</a></p>
</form>`;
}

function valuesOf(t: Topic): Record<string, string> {
  return {
    name: t.name, slug: t.slug, description: t.description, query: t.query, promptPriority: String(t.promptPriority), promptHidden: t.promptHidden ? 'on' : '',
    ...Object.fromEntries(NAME_LANGUAGES.map((l) => [`name_${l}`, t.names[l] ?? ''])),
  };
}

export function topicRoutes(router: Router, kit: Kit): void {
  const { ctx } = kit;
  const topics = ctx.services.topics;

  const runTest = async (state: FormState) => {
    try {
      state.test = await topics.test(state.values.query ?? '', { days: Number(state.values.days) || 30, limit: 20 });
    } catch (err) {
      const e = issuesOf(err);
      state.testError = { message: e.issues[0]?.message ? `The query is invalid: ${e.issues[0].message}` : e.message, column: e.details.column as number | undefined };
    }
  };

  const formValues = (req: Request) =>
    Object.fromEntries(['name', 'slug', 'description', 'query', 'days', 'promptPriority', 'promptHidden', ...NAME_FIELDS].map((k) => [k, field(req, k)]));

  router.get('/topics', async (req, res) => {
    const [list, counts] = await Promise.all([topics.list(), ctx.services.adminStats.subscriptionCounts()]);
    const active = list.filter((t) => t.status === 'active');
    const archived = list.filter((t) => t.status === 'archived');
    const table = (rows: Topic[], caption: string) => html`<div class="table-wrap" role="region" aria-label="${caption}" tabindex="0"><table>
<caption>${caption}</caption>
<thead><tr><th scope="col">Topic</th><th scope="col">Slug</th><th scope="col">Query</th><th scope="col" class="num">Active</th><th scope="col" class="num">Pending</th><th scope="col">Updated</th></tr></thead>
<tbody>${rows.map((t) => {
      const c = counts.get(t.id);
      return html`<tr><th scope="row"><a href="/admin/topics/${t.slug}">${t.name}</a>${t.promptHidden ? html` <span class="badge">not in box</span>` : ''}</th><td><code>${t.slug}</code></td><td><code>${t.query}</code></td><td class="num">${fmtNum(c?.active ?? 0)}</td><td class="num">${fmtNum(c?.pending ?? 0)}</td><td>${isoTime(t.updatedAt)}</td></tr>`;
    })}</tbody></table></div>`;
    kit.render(req, res, {
      title: 'Topics',
      section: 'topics',
      body: html`<h1>Topics</h1>
<p><a class="button" href="/admin/topics/new">New topic</a></p>
${active.length > 0 ? table(active, `Active topics (${active.length})`) : html`<p>No active topics yet.</p>`}
${archived.length > 0 ? html`<h2>Archived</h2>${table(archived, `Archived topics (${archived.length})`)}` : ''}`,
    });
  });

  // The live test (admin.js, as you type): JSON, read-only.
  router.get('/topics/test.json', async (req, res) => {
    const q = testQuery.parse(req.query);
    if (!q.query.trim()) {
      res.status(400).json({ error: { code: 'invalid_query', message: 'Type a query to test', issues: [{ path: 'query', message: 'is required' }] } });
      return;
    }
    const result = await topics.test(q.query, { days: q.days, limit: 20 });
    res.json({
      query: result.query,
      normalizedQuery: result.normalizedQuery,
      days: result.days,
      count: result.count,
      scanned: result.scanned,
      truncated: result.truncated,
      matches: result.matches.map((a) => ({ id: a.id, title: a.title, url: a.url, publishedAt: a.publishedAt.toISOString() })),
    });
  });

  router.get('/topics/new', async (req, res) => {
    const state: FormState = { values: { days: '30', promptPriority: '0' }, issues: [] };
    kit.render(req, res, { title: 'New topic', section: 'topics', body: html`<h1>New topic</h1>${topicForm(res, { state, action: '/admin/topics', submitLabel: 'Create topic' })}` });
  });

  router.post('/topics', async (req, res) => {
    const state: FormState = { values: formValues(req), issues: [] };
    if (field(req, 'intent') === 'test') {
      await runTest(state);
      return kit.render(req, res, { title: 'New topic', section: 'topics', body: html`<h1>New topic</h1>${topicForm(res, { state, action: '/admin/topics', submitLabel: 'Create topic' })}` });
    }
    try {
      const topic = await topics.create(createInput(req), kit.actor(res));
      res.redirect(303, `/admin/topics/${topic.slug}?done=topic-created`);
    } catch (err) {
      const e = issuesOf(err);
      state.issues = e.issues;
      kit.render(req, res, { status: e instanceof DomainError ? 400 : 400, title: 'New topic', section: 'topics', error: e.message, body: html`<h1>New topic</h1>${topicForm(res, { state, action: '/admin/topics', submitLabel: 'Create topic' })}` });
    }
  });

  const editPage = (req: Request, res: Response, topic: Topic, state: FormState, status = 200, error?: string) => {
    kit.render(req, res, {
      status,
      error,
      title: `Topic: ${topic.name}`,
      section: 'topics',
      body: html`<h1>Topic: ${topic.name} ${topic.status === 'archived' ? html`<span class="badge">archived</span>` : ''}</h1>
<p class="muted">Created ${isoTime(topic.createdAt)}, updated ${isoTime(topic.updatedAt)}. <a href="/topics/${topic.slug}">Public page</a> · <a href="/admin/articles?topic=${topic.slug}">Matched articles</a></p>
${topicForm(res, { topic, state, action: `/admin/topics/${topic.slug}`, submitLabel: 'Save topic' })}
<section aria-labelledby="h-archive" class="danger-zone">
<h2 id="h-archive">${topic.status === 'active' ? 'Archive' : 'Restore'}</h2>
${topic.status === 'active'
  ? html`<p>Archiving stops matching and signups for this topic; subscribers, matches and consent history are kept.</p>${postButton(res, { action: `/admin/topics/${topic.slug}/archive`, label: 'Archive topic', className: 'danger', confirm: `Archive "${topic.name}"? It will stop matching articles and taking signups.` })}`
  : html`<p>Restoring makes the topic match new articles and take signups again.</p>${postButton(res, { action: `/admin/topics/${topic.slug}/restore`, label: 'Restore topic' })}`}
</section>`,
    });
  };

  router.get('/topics/:slug', async (req, res) => {
    const topic = await topics.get(slugSchema.parse(req.params.slug));
    editPage(req, res, topic, { values: { ...valuesOf(topic), days: '30' }, issues: [] });
  });

  router.post('/topics/:slug', async (req, res) => {
    const topic = await topics.get(slugSchema.parse(req.params.slug));
    const state: FormState = { values: { ...formValues(req), slug: topic.slug }, issues: [] };
    if (field(req, 'intent') === 'test') {
      await runTest(state);
      return editPage(req, res, topic, state);
    }
    try {
      await topics.update(topic.slug, patchInput(req), kit.actor(res));
      res.redirect(303, `/admin/topics/${topic.slug}?done=topic-saved`);
    } catch (err) {
      const e = issuesOf(err);
      state.issues = e.issues;
      editPage(req, res, topic, state, 400, e.message);
    }
  });

  router.post('/topics/:slug/archive', async (req, res) => {
    const topic = await topics.archive(slugSchema.parse(req.params.slug), kit.actor(res));
    res.redirect(303, `/admin/topics/${topic.slug}?done=topic-archived`);
  });

  router.post('/topics/:slug/restore', async (req, res) => {
    const topic = await topics.update(slugSchema.parse(req.params.slug), { status: 'active' }, kit.actor(res));
    res.redirect(303, `/admin/topics/${topic.slug}?done=topic-restored`);
  });
}
