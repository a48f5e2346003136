import { createHash } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { html, SafeHtml } from '../../html.js';
import { field, input, issueFor, issuesOf, textarea, type Kit } from '../kit.js';
import { isoTime } from '../layout.js';
import { termsPublishSchema } from '../../schemas.js';
import { renderMarkdown } from '../../../services/terms.js';
import type { ErrorIssue } from '../../../errors.js';

/** What the preview showed: publishing must name exactly this text. */
const previewDigest = (title: string, body: string) => createHash('sha256').update(`${title}\n\u0000${body}`).digest('hex');

export function termsRoutes(router: Router, kit: Kit): void {
  const { ctx } = kit;
  const terms = ctx.services.terms;

  const page = async (req: Request, res: Response, o: { title?: string; body?: string; issues?: ErrorIssue[]; preview?: boolean; error?: string; status?: number } = {}) => {
    const versions = await terms.list();
    const current = versions[0];
    const err = (p: string) => issueFor(o.issues ?? [], p);
    const title = o.title ?? current?.title.replace(/ \(placeholder\)$/, '') ?? 'Terms & Conditions';
    const body = o.body ?? (current && !current.placeholder ? current.bodyMarkdown : '');
    const csrf = html`<input type="hidden" name="_csrf" value="${res.locals.admin.session.csrfToken}">`;
    kit.render(req, res, {
      status: o.status,
      error: o.error,
      title: 'Terms',
      section: 'terms',
      body: html`<h1>Terms &amp; Conditions</h1>
${current
  ? html`<p>In force: <a href="/terms/${current.version}">version ${current.version}</a>, “${current.title}”, published ${isoTime(current.publishedAt)}${current.publishedBy ? html` by ${current.publishedBy}` : ''}.${current.placeholder ? html` <strong class="error-text">This is the development placeholder: publish the real terms.</strong>` : ''}</p>`
  : html`<p><strong>No terms are published: signups are refused until you publish them.</strong></p>`}

${o.preview
  ? html`<section aria-labelledby="h-preview" class="preview">
<h2 id="h-preview">Preview of version ${(current?.version ?? 0) + 1}</h2>
<div class="terms-preview"><h3>${o.title}</h3>${new SafeHtml(renderMarkdown(o.body ?? ''))}</div>
<form method="post" action="/admin/terms">
${csrf}
<input type="hidden" name="title" value="${o.title}">
<input type="hidden" name="bodyMarkdown" value="${o.body}">
<input type="hidden" name="previewed" value="${previewDigest(o.title ?? '', o.body ?? '')}">
<p>Publishing makes this version current at once: the widget and hosted pages show it, and a signup made on the old version is asked to review the new one. Published versions are never edited.</p>
<p class="actions"><button type="submit">Publish version ${(current?.version ?? 0) + 1}</button></p>
</form>
</section>`
  : ''}

<section aria-labelledby="h-new">
<h2 id="h-new">${o.preview ? 'Edit again' : 'New version'}</h2>
<form method="post" action="/admin/terms/preview" novalidate>
${csrf}
${input({ name: 'title', label: 'Title', value: title, required: true, error: err('title') })}
${textarea({ name: 'bodyMarkdown', label: 'Text (Markdown)', value: body, rows: 16, required: true, error: err('bodyMarkdown'), hint: 'Markdown: **bold**, lists with -, links [text](https://…). Raw HTML is shown as text.' })}
<p><button type="submit" class="secondary">Preview</button></p>
</form>
</section>

<section aria-labelledby="h-versions">
<h2 id="h-versions">Versions</h2>
<div class="table-wrap" role="region" aria-labelledby="h-versions" tabindex="0"><table><thead><tr><th scope="col">Version</th><th scope="col">Title</th><th scope="col">Published</th><th scope="col">By</th><th scope="col">SHA-256</th></tr></thead>
<tbody>${versions.map((t) => html`<tr><th scope="row"><a href="/terms/${t.version}">v${t.version}</a>${t === current ? html` <span class="badge ok">current</span>` : ''}${t.placeholder ? html` <span class="badge">placeholder</span>` : ''}</th><td>${t.title}</td><td>${isoTime(t.publishedAt)}</td><td>${t.publishedBy ?? ''}</td><td><code class="hash">${t.bodySha256.slice(0, 16)}…</code></td></tr>`)}</tbody></table></div>
</section>`,
    });
  };

  router.get('/terms', (req, res) => page(req, res));

  const parse = (req: Request) => termsPublishSchema.parse({ title: field(req, 'title'), bodyMarkdown: typeof req.body?.bodyMarkdown === 'string' ? req.body.bodyMarkdown.replace(/\r\n/g, '\n').trim() : '' });

  router.post('/terms/preview', async (req, res) => {
    try {
      const input = parse(req);
      await page(req, res, { title: input.title, body: input.bodyMarkdown, preview: true });
    } catch (err) {
      const e = issuesOf(err);
      await page(req, res, { title: field(req, 'title'), body: field(req, 'bodyMarkdown'), issues: e.issues, error: e.message, status: 400 });
    }
  });

  router.post('/terms', async (req, res) => {
    let input: { title: string; bodyMarkdown: string };
    try {
      input = parse(req);
    } catch (err) {
      const e = issuesOf(err);
      return page(req, res, { title: field(req, 'title'), body: field(req, 'bodyMarkdown'), issues: e.issues, error: e.message, status: 400 });
    }
    if (field(req, 'previewed') !== previewDigest(input.title, input.bodyMarkdown)) {
      return page(req, res, { title: input.title, body: input.bodyMarkdown, preview: true, status: 400, error: 'Check the preview of exactly this text before publishing it.' });
    }
    await terms.publish(input, kit.actor(res));
    res.redirect(303, '/admin/terms?done=terms-published');
  });
}
