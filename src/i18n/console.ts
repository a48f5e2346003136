import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { html, SafeHtml } from '../http/html.js';
import { issuesOf, postButton, textarea, type Kit } from '../http/admin/kit.js';
import { csrfField } from '../http/admin/layout.js';
import { adminOf } from '../http/admin/session.js';
import { checkMessage } from './service.js';
import { isLanguage, LANGUAGE_NAMES, LANGUAGES, type Language } from './languages.js';
import { Messages, messageNames, type ArgKind, type Values } from './translator.js';

// The publisher's own words: every reader-facing message per language, what ships, what the
// publisher wrote instead, and an editor with a preview (formatted with sample values, as a
// reader would see it) before anything is saved. Saved text shows in the next box and page.

const GROUPS: [string, string][] = [
  ['box', 'Signup box'],
  ['consent', 'Consent wording'],
  ['mail', 'Mails'],
  ['signup', 'Signup page'],
  ['confirm', 'Confirm pages'],
  ['decline', 'Decline pages'],
  ['unsubscribe', 'Unsubscribe pages'],
  ['prefs', 'Preference centre'],
  ['erase', 'Erasure'],
  ['', 'Everything else'],
];
const grouped = GROUPS.map(([g]) => g).filter(Boolean);
const groupOf = (key: string) => (grouped.includes(key.split('.')[0]!) ? key.split('.')[0]! : '');

const langQuery = z.object({ lang: z.string().optional(), group: z.string().optional() });
const editQuery = z.object({ lang: z.string(), key: z.string().max(200), text: z.string().max(5000).optional() });

/** Values a message is previewed with: plausible ones by name, else by kind. */
function sampleValues(source: string, publisherName: string, now: Date): Values {
  const byName: Record<string, Values[string]> = {
    publisherName,
    topics: ['Japan', 'NATO'],
    topicNames: ['Japan', 'NATO'],
    topic: 'Japan',
    alsoReportedBy: ['Reuters', 'AP'],
    frequency: 'daily',
    from: '22:00',
    to: '07:00',
    until: '9 Dec 2026, 08:00',
    language: 'English',
    original: 'English',
    text: 'I agree to the Terms & Conditions',
  };
  const byKind: Record<ArgKind, Values[string]> = { text: 'Japan', number: 3, date: now };
  const out: Record<string, Values[string]> = {};
  for (const [name, kind] of messageNames(source).args) out[name] = kind === 'text' ? (byName[name] ?? `[${name}]`) : byName[name] !== undefined && kind === 'number' ? byName[name] : byKind[kind];
  return out;
}

export function wordingRoutes(router: Router, kit: Kit): void {
  const { ctx } = kit;
  const i18n = ctx.services.i18n;
  const publisherName = ctx.config.mail.publisherName;
  const langOf = (v: string | undefined): Language => (isLanguage(v) ? v : ctx.config.defaultLanguage);

  router.get('/wording', async (req, res) => {
    const q = langQuery.parse(req.query);
    const lang = langOf(q.lang);
    const rows = await i18n.wording(lang);
    const group = q.group !== undefined && GROUPS.some(([g]) => g === q.group) ? q.group : 'box';
    const shown = rows.filter((r) => groupOf(r.key) === group);
    const overridden = rows.filter((r) => r.override).length;
    kit.render(req, res, {
      title: 'Wording',
      section: 'wording',
      body: html`<h1>Wording</h1>
<p class="muted">Every word a reader sees, in each language. Write your own text for any of them: it replaces the shipped one at once, in the box, the pages and the mails, and a signup's consent records the exact words shown.</p>
<nav aria-label="Languages"><ul class="chips">${LANGUAGES.map((l) => html`<li><a href="/admin/wording?lang=${l}&group=${group}" lang="${l}" ${l === lang ? html`aria-current="page"` : ''}>${LANGUAGE_NAMES[l]}</a></li>`)}</ul></nav>
<nav aria-label="Parts"><ul class="chips">${GROUPS.map(([g, label]) => html`<li><a href="/admin/wording?lang=${lang}&group=${g}" ${g === group ? html`aria-current="page"` : ''}>${label}</a></li>`)}</ul></nav>
<p>${LANGUAGE_NAMES[lang]}: ${overridden} of ${rows.length} messages in your own words.</p>
<div class="table-wrap" role="region" aria-label="Messages" tabindex="0"><table>
<thead><tr><th scope="col">Message</th><th scope="col">Shipped text (${LANGUAGE_NAMES[lang]})</th><th scope="col">Your text</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${shown.map(
        (r) => html`<tr><th scope="row" class="break"><code>${r.key}</code>${lang !== 'en' ? html`<br><span class="muted">${r.english}</span>` : ''}</th>
<td lang="${lang}" dir="auto">${r.shipped ?? html`<span class="muted">(English shows)</span>`}</td>
<td lang="${lang}" dir="auto">${r.override ? r.override.text : html`<span class="muted">–</span>`}</td>
<td><a href="/admin/wording/edit?lang=${lang}&key=${encodeURIComponent(r.key)}">Edit<span class="visually-hidden"> ${r.key}</span></a></td></tr>`,
      )}</tbody></table></div>`,
    });
  });

  /** The editor: the text (the override, or the shipped one to start from), its preview, save and reset. */
  async function editor(req: Request, res: Response, o: { lang: Language; key: string; text?: string; error?: string; status?: number }) {
    const row = (await i18n.wording(o.lang)).find((r) => r.key === o.key);
    if (!row) {
      kit.render(req, res, { title: 'Wording', section: 'wording', status: 404, body: html`<h1>No such message</h1><p><a href="/admin/wording?lang=${o.lang}">All messages</a></p>` });
      return;
    }
    const text = o.text ?? row.override?.text ?? row.shipped ?? row.english;
    let preview: SafeHtml | undefined;
    let error = o.error;
    if (!error) {
      try {
        checkMessage(text, row.english, o.lang);
        const m = new Messages(o.lang, { [o.key]: text });
        const values = sampleValues(text, publisherName, ctx.clock.now());
        preview = html`<div class="callout" lang="${o.lang}" dir="${m.dir}"><p>${new SafeHtml(m.html(o.key, values, { b: { open: '<strong>', close: '</strong>' } }))}</p></div>`;
      } catch (err) {
        error = issuesOf(err).message;
      }
    }
    const admin = adminOf(res);
    const names = messageNames(row.english);
    const allowed = [...names.args.keys()].map((a) => `{${a}}`).concat([...names.tags].map((t) => `<${t}>…</${t}>`));
    kit.render(req, res, {
      title: `Wording: ${o.key}`,
      section: 'wording',
      status: o.status,
      body: html`<h1>${o.key} <span class="muted">(${LANGUAGE_NAMES[o.lang]})</span></h1>
<dl><dt>English</dt><dd>${row.english}</dd>${o.lang !== 'en' ? html`<dt>Shipped ${LANGUAGE_NAMES[o.lang]}</dt><dd lang="${o.lang}" dir="auto">${row.shipped ?? '(none: English shows)'}</dd>` : ''}
<dt>Yours</dt><dd lang="${o.lang}" dir="auto">${row.override ? html`${row.override.text} <span class="muted">(by ${row.override.updatedBy ?? 'unknown'}, ${row.override.updatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)</span>` : 'none'}</dd></dl>
<form method="get" action="/admin/wording/edit">
<input type="hidden" name="lang" value="${o.lang}"><input type="hidden" name="key" value="${o.key}">
${textarea({ name: 'text', label: 'Text', value: text, rows: 4, hint: allowed.length ? `ICU MessageFormat. It may use ${allowed.join(', ')}.` : 'ICU MessageFormat, without placeholders.', error })}
<p><button type="submit" class="secondary">Preview</button></p>
</form>
<section aria-labelledby="h-preview"><h2 id="h-preview">Preview</h2>
${preview ?? html`<p>Nothing to show until the text is valid.</p>`}
<p class="hint">With sample values; nothing is saved until you save.</p></section>
${preview
  ? html`<form method="post" action="/admin/wording">${csrfField(admin)}<input type="hidden" name="lang" value="${o.lang}"><input type="hidden" name="key" value="${o.key}"><input type="hidden" name="text" value="${text}"><button type="submit">Save this text</button></form>`
  : ''}
${row.override ? postButton(res, { action: '/admin/wording', label: 'Go back to the shipped text', className: 'secondary', fields: { lang: o.lang, key: o.key, reset: '1' } }) : ''}
<p><a href="/admin/wording?lang=${o.lang}&group=${groupOf(o.key)}">All messages</a></p>`,
    });
  }

  router.get('/wording/edit', async (req, res) => {
    const q = editQuery.parse(req.query);
    await editor(req, res, { lang: langOf(q.lang), key: q.key, text: q.text });
  });

  router.post('/wording', async (req, res) => {
    const b = z.object({ lang: z.string(), key: z.string().max(200), text: z.string().max(5000).optional(), reset: z.literal('1').optional() }).parse(req.body ?? {});
    try {
      await i18n.setOverride(b.lang, b.key, b.reset ? null : (b.text ?? ''), kit.actor(res));
    } catch (err) {
      const { message } = issuesOf(err);
      return editor(req, res, { lang: langOf(b.lang), key: b.key, text: b.text, error: message, status: 400 });
    }
    res.redirect(303, `/admin/wording/edit?lang=${encodeURIComponent(b.lang)}&key=${encodeURIComponent(b.key)}&done=${b.reset ? 'wording-reset' : 'wording-saved'}`);
  });
}
