import { escapeHtml } from '../escape-html.js';

// Server-rendered pages: every interpolated value is HTML-escaped unless it is already SafeHtml,
// so a topic name or article title containing markup is shown, never executed.

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

export interface PageOptions {
  title: string;
  publisherName: string;
  lang?: string;
  dir?: 'ltr' | 'rtl';
  body: SafeHtml;
  head?: SafeHtml;
  /** The same page in each language (a reader's pages): a list of links under it. */
  languages?: { label: string; links: { lang: string; name: string; href: string; current: boolean }[] };
}

function languageNav(l: NonNullable<PageOptions['languages']>): SafeHtml {
  return html`<footer class="site"><nav class="languages" aria-label="${l.label}"><ul>${l.links.map(
    (x) => html`<li><a href="${x.href}" lang="${x.lang}" hreflang="${x.lang}" ${x.current ? html`aria-current="true"` : ''}>${x.name}</a></li>`,
  )}</ul></nav></footer>`;
}

export function page(o: PageOptions): string {
  return `<!doctype html>${html`<html lang="${o.lang ?? 'en'}" dir="${o.dir ?? 'ltr'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${o.title} · ${o.publisherName}</title>
<link rel="stylesheet" href="/assets/site.css">
${o.head}
</head>
<body>
<header class="site"><a href="/" class="brand">${o.publisherName}</a></header>
<main id="main">
${o.body}
</main>
${o.languages ? languageNav(o.languages) : ''}
</body>
</html>`}`;
}

export const formatDate = (d: Date, timeZone = 'UTC', lang = 'en-GB') =>
  new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : lang, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(d);
