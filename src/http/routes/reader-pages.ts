import type { Request, Response, NextFunction } from 'express';
import type { HandlerContext } from '../../context.js';
import { formatDate, html, page, SafeHtml } from '../html.js';
import { topicName, type Topic } from '../../repositories/topics.js';
import { LANGUAGE_NAMES, LANGUAGES, type Language } from '../../i18n/languages.js';
import type { Messages, Tags, Values } from '../../i18n/translator.js';
import { escapeHtml } from '../../escape-html.js';
import { FREQUENCIES, type Frequency } from '../../db/types.js';

// What the reader-facing pages (signup, link pages, preference centre, topic pages) share: the
// reader's language and its words, and the page around them.

/** A form field that may come as repeated fields or as one comma-separated value. */
export const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? v.split(',') : []);

/** A link as the markup of a message's tag (`<home>Back to the start</home>`). */
export const link = (href: string): { open: string; close: string } => ({ open: `<a href="${escapeHtml(href)}">`, close: '</a>' });

const BOLD: Tags = { b: { open: '<strong>', close: '</strong>' } };

/** One page for one reader: their language, its words, and sending the page in the site's layout. */
export interface ReaderPage {
  lang: Language;
  m: Messages;
  /** Plain text (html`` escapes it). */
  t(key: string, values?: Values): string;
  /** A rich message as HTML: <b> is bold, other tags take the markup given. */
  h(key: string, values?: Values, tags?: Tags): SafeHtml;
  /** "Japan, NATO and Brexit", each topic in this language. */
  topics(topics: readonly Pick<Topic, 'name' | 'names'>[]): string;
  /** The frequency's name on pages ("Daily digest"). */
  frequency(f: Frequency): string;
  frequencies: readonly [Frequency, string][];
  date(d: Date, timeZone?: string): string;
  /** `path` with `?lang=` when the reader chose the language by link: their next page keeps it. */
  href(path: string): string;
  send(res: Response, status: number, title: string, body: SafeHtml, head?: SafeHtml): void;
}

/**
 * The page's language: `?lang=`, then the subscriber's (a token page), then Accept-Language,
 * then the site's. The answer varies by Accept-Language, so caches are told.
 */
export function readerPages(ctx: HandlerContext) {
  const publisherName = ctx.config.mail.publisherName;
  const i18n = ctx.services.i18n;
  return async (req: Request, opts: { subscriberLanguage?: string | null; language?: string | null } = {}): Promise<ReaderPage> => {
    const query = typeof req.query.lang === 'string' ? req.query.lang : undefined;
    const lang = i18n.choose({ query: opts.language ?? query, subscriber: opts.subscriberLanguage, acceptLanguage: req.get('accept-language') });
    const m = await i18n.messages(lang);
    const chosen = i18n.choose({ query }) === lang && query !== undefined;
    const withLang = (path: string, l: string) => `${path}${path.includes('?') ? '&' : '?'}lang=${l}`;
    const p: ReaderPage = {
      lang,
      m,
      t: (key, values) => m.t(key, values),
      h: (key, values, tags) => new SafeHtml(m.html(key, values, { ...BOLD, ...tags })),
      topics: (topics) => m.list(topics.map((t) => topicName(t, lang))),
      frequency: (f) => m.t(`frequency.${f}`),
      frequencies: FREQUENCIES.map((f) => [f, m.t(`frequency.${f}`)] as [Frequency, string]),
      date: (d, timeZone) => formatDate(d, timeZone ?? ctx.config.defaultTimeZone, lang),
      href: (path) => (chosen ? withLang(path, lang) : path),
      send(res, status, title, body, head) {
        res.vary('Accept-Language');
        // A GET page lists itself in the other languages; a form's answer does not (it has no GET).
        const here = req.originalUrl.replace(/([?&])lang=[^&]*&?/, '$1').replace(/[?&]$/, '');
        const languages =
          req.method === 'GET'
            ? { label: m.t('page.language'), links: LANGUAGES.map((l) => ({ lang: l, name: LANGUAGE_NAMES[l], href: withLang(here, l), current: l === lang })) }
            : undefined;
        res.status(status).type('html').send(page({ title, publisherName, lang, dir: m.dir, body, head, languages }));
      },
    };
    return p;
  };
}

/** Token pages: never leak the token through Referer, never cache. */
export function tokenPageHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  next();
}

