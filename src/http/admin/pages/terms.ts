import { createHash } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { html, SafeHtml } from '../../html.js';
import { field, input, issueFor, issuesOf, textarea, type Kit } from '../kit.js';
import { isoTime } from '../layout.js';
import { termsPublishSchema, termsTextSchema } from '../../schemas.js';
import type { TermsVersion } from '../../../repositories/terms.js';
import { languageName, LANGUAGE_NAMES, LANGUAGES, type Language } from '../../../i18n/languages.js';
import { renderMarkdown } from '../../../services/terms.js';
import { DomainError, type ErrorIssue } from '../../../errors.js';

interface PageState {
  title?: string;
  body?: string;
  issues?: ErrorIssue[];
  preview?: boolean;
  error?: string;
  status?: number;
  translation?: { language: string; title: string; body: string; issues: ErrorIssue[] };
}

/** What the preview showed: publishing must name exactly this text. */
const previewDigest = (title: string, body: string) => createHash('sha256').update(`${title}\n\u0000${body}`).digest('hex');

export function termsRoutes(router: Router, kit: Kit): void {
  const { ctx } = kit;
  const terms = ctx.services.terms;

  /** The version in force in other languages: one text per language, published once. */
  const translations = (t: TermsVersion, csrf: SafeHtml, o: PageState) => {
    const have = new Set([t.language, ...t.translations.map((x) => x.language)]);
    const missing = LANGUAGES.filter((l) => !have.has(l));
    const tr = o.translation;
    const err = (p: string) => issueFor(tr?.issues ?? [], p);
    return html`<section aria-labelledby="h-translations">
<h2 id="h-translations">Version ${t.version} in other languages</h2>
<p>A reader accepts the text in their language when there is one (their consent records its hash), else the ${languageName(t.language, 'en')} text. Each text is published once and never edited.</p>
<ul>${[...have].map((l) => html`<li><a href="/terms/${t.version}?lang=${l}">${LANGUAGE_NAMES[l as Language] ?? l}</a></li>`)}</ul>
${missing.length === 0
  ? html`<p>Every language has its text.</p>`
  : html`<form method="post" action="/admin/terms/${t.version}/translations" novalidate>
${csrf}
<p class="field"><label for="f-language">Language</label><select id="f-language" name="language">${missing.map((l) => html`<option value="${l}" ${tr?.language === l ? 'selected' : ''}>${LANGUAGE_NAMES[l]}</option>`)}</select></p>
${input({ name: 'trTitle', label: 'Title', value: tr?.title ?? '', required: true, error: err('trTitle') })}
${textarea({ name: 'trBody', label: 'Text (Markdown)', value: tr?.body ?? '', rows: 12, required: true, error: err('trBody'), hint: 'The same terms, translated. Published at once and never edited.' })}
<p><button type="submit">Publish this translation</button></p>
</form>`}
</section>`;
  };

  const page = async (req: Request, res: Response, o: PageState = {}) => {
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

${current && !current.placeholder ? translations(current, csrf, o) : ''}

<section aria-labelledby="h-versions">
<h2 id="h-versions">Versions</h2>
<div class="table-wrap" role="region" aria-labelledby="h-versions" tabindex="0"><table><thead><tr><th scope="col">Version</th><th scope="col">Title</th><th scope="col">Published</th><th scope="col">By</th><th scope="col">Languages</th><th scope="col">SHA-256</th></tr></thead>
<tbody>${versions.map((t) => html`<tr><th scope="row"><a href="/terms/${t.version}">v${t.version}</a>${t === current ? html` <span class="badge ok">current</span>` : ''}${t.placeholder ? html` <span class="badge">placeholder</span>` : ''}</th><td>${t.title}</td><td>${isoTime(t.publishedAt)}</td><td>${t.publishedBy ?? ''}</td><td>${[t.language, ...t.translations.map((x) => x.language)].join(', ')}</td><td><code class="hash">${t.bodySha256.slice(0, 16)}…</code></td></tr>`)}</tbody></table></div>
</section>`,
    });
  };

  router.get('/terms', (req, res) => page(req, res));

  router.post('/terms/:version/translations', async (req, res) => {
    const version = Number(req.params.version);
    const language = field(req, 'language');
    try {
      const input = termsTextSchema.parse({ title: field(req, 'trTitle'), bodyMarkdown: typeof req.body?.trBody === 'string' ? req.body.trBody.replace(/\r\n/g, '\n').trim() : '' });
      await terms.addTranslation(version, language, input, kit.actor(res));
    } catch (err) {
      const e = issuesOf(err);
      return page(req, res, { translation: { language, title: field(req, 'trTitle'), body: field(req, 'trBody'), issues: e.issues.map((i) => ({ ...i, path: i.path === 'title' ? 'trTitle' : i.path === 'bodyMarkdown' ? 'trBody' : i.path })) }, error: e.message, status: err instanceof DomainError ? err.status : 400 });
    }
    res.redirect(303, '/admin/terms?done=terms-translated');
  });

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
