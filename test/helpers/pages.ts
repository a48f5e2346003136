import { load, type CheerioAPI } from 'cheerio';
import type { ParsedMail } from 'mailparser';

// Reading mail and pages the way a person does: the links in both parts of a mail, the forms on
// a page and what submitting one sends, and whether an answer is a real page.

/** Every http(s) link of a mail: the HTML part's hrefs, then the URLs written in the text part. */
export function mailLinks(mail: ParsedMail): { html: string[]; text: string[] } {
  const html = typeof mail.html === 'string' ? mail.html : '';
  const $ = load(html);
  const hrefs = $('a[href]')
    .map((_, a) => $(a).attr('href')!)
    .get()
    .filter((u) => /^https?:\/\//.test(u));
  const inText = (mail.text ?? '').match(/https?:\/\/[^\s<>"')\]]+/g) ?? [];
  return { html: [...new Set(hrefs)], text: [...new Set(inText.map((u) => u.replace(/[.,;:]+$/, '')))] };
}

/** A link's path with its token segments replaced, so that links of one kind compare equal. */
export function pathPattern(url: string): string {
  const { pathname } = new URL(url);
  return pathname.replace(/^\/(confirm|decline|unsubscribe|preferences)\/[^/]+/, '/$1/:token');
}

/** Why this answer is not a real page a reader can use, or undefined when it is. */
export function notARealPage(status: number, contentType: string | null, body: string): string | undefined {
  if (status < 200 || status > 299) return `status ${status}`;
  if (!contentType?.startsWith('text/html')) return `content-type ${contentType}`;
  if (!/^<!doctype html>/i.test(body) || !/<html lang="[a-z-]+"/i.test(body)) return 'not an HTML document';
  if (!/<main\b/.test(body) || !/<h1\b/.test(body)) return 'no main content or heading';
  if (/"error"\s*:\s*\{/.test(body)) return 'a JSON error';
  if (/\n\s+at .+:\d+:\d+/.test(body) || /\bError: /.test(body)) return 'a stack trace or an error message';
  return undefined;
}

export interface PageForm {
  index: number;
  action: string;
  method: string;
  /** The text of the button a person presses. */
  label: string;
  /** What the browser sends, with what a person fills in (their address, the consent box). */
  body: URLSearchParams;
}

/**
 * The POST forms of a page, filled as a person would: hidden fields and defaults as they are,
 * checked boxes and selected options only, a required empty address typed in (`address`), a
 * required unticked box (the consent box) ticked; the honeypot stays empty.
 */
export function pageForms(html: string, pageUrl: string, address: (form: { action: string }) => string): PageForm[] {
  const $: CheerioAPI = load(html);
  return $('form')
    .toArray()
    .map((f, index) => ({ f: $(f), index }))
    .filter(({ f }) => (f.attr('method') ?? 'get').toLowerCase() === 'post')
    .map(({ f, index }) => {
      const action = new URL(f.attr('action') ?? pageUrl, pageUrl).href;
      const body = new URLSearchParams();
      f.find('input[name], select[name], textarea[name]').each((_, el) => {
        const input = $(el);
        const name = input.attr('name')!;
        const type = (input.attr('type') ?? 'text').toLowerCase();
        if (el.tagName === 'select') {
          const chosen = input.find('option[selected]').first();
          body.append(name, (chosen.length ? chosen : input.find('option').first()).attr('value') ?? '');
        } else if (type === 'checkbox' || type === 'radio') {
          const checked = input.attr('checked') !== undefined || (type === 'checkbox' && input.attr('required') !== undefined);
          if (checked) body.append(name, input.attr('value') ?? 'on');
        } else {
          const value = input.attr('value') ?? '';
          body.append(name, value === '' && input.attr('required') !== undefined && type === 'email' ? address({ action }) : value);
        }
      });
      const button = f.find('button[type="submit"], button:not([type]), input[type="submit"]').first();
      if (button.attr('name')) body.append(button.attr('name')!, button.attr('value') ?? '');
      const label = (button.text() || button.attr('value') || '').trim();
      return { index, action, method: 'post', label, body };
    });
}

/** Same-origin links on a page, for a reader who clicks on from it: pages, downloads, feeds. */
export function pageLinks(html: string, pageUrl: string): { href: string; kind: 'page' | 'download' | 'feed' }[] {
  const $ = load(html);
  const origin = new URL(pageUrl).origin;
  return $('a[href]')
    .toArray()
    .map((a) => {
      const href = new URL($(a).attr('href')!, pageUrl).href;
      const kind = $(a).attr('download') !== undefined ? 'download' : /xml/.test($(a).attr('type') ?? '') || /\.xml$/.test(new URL(href).pathname) ? 'feed' : 'page';
      return { href, kind } as const;
    })
    .filter((l) => new URL(l.href).origin === origin);
}

export const mainText = (html: string) => load(html)('main').text().replace(/\s+/g, ' ').trim();
