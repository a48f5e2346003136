import { createHash } from 'node:crypto';
import { Marked } from 'marked';
import { DomainError, invalid, notFound } from '../errors.js';
import type { Repositories } from '../repositories/index.js';
import type { TermsText, TermsVersion } from '../repositories/terms.js';
import { isLanguage, LANGUAGES, type Language } from '../i18n/languages.js';
import type { Clock } from '../clock.js';
import { escapeHtml } from '../escape-html.js';
import { fresh } from './cache-age.js';

export interface TermsInput {
  title: string;
  bodyMarkdown: string;
  /** The language of this text (default: the site's). */
  language?: string;
  /** The same terms in other languages, published with it. */
  translations?: Record<string, { title: string; bodyMarkdown: string }>;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const text = (language: string, t: { title: string; bodyMarkdown: string }): TermsText => ({ language, title: t.title, bodyMarkdown: t.bodyMarkdown, bodySha256: sha256(t.bodyMarkdown) });

function checkLanguage(lang: string): void {
  if (!isLanguage(lang)) throw invalid(`Not a language readers can read here: ${lang}`, [{ path: 'language', message: `must be one of ${LANGUAGES.join(', ')}` }]);
}

/**
 * The text of a version a reader in `lang` is shown (and accepts): its translation when it has
 * one, else its own text.
 */
export function termsTextIn(t: TermsVersion, lang: string): TermsText {
  return t.language === lang ? t : (t.translations.find((x) => x.language === lang) ?? t);
}

const PLACEHOLDER_TERMS = `**PLACEHOLDER — these are not real terms.** This development install has not published its
Terms & Conditions yet. An administrator publishes the real text with \`POST /api/v1/terms\` or
from the console; signups in production are refused until then.

- You will receive emails about the topics you choose, at the frequency you choose.
- Every email has a one-click unsubscribe link.
- You can download or erase your data from the preference centre at any time.`;

// Terms are written by admins, but rendered pages must never run markup from a text field:
// raw HTML is shown as text and links may only point to http(s), mailto or the same site.
const markdown = new Marked({
  gfm: true,
  renderer: {
    html: (token) => escapeHtml(token.text),
    link({ href, title, tokens }) {
      const text = this.parser.parseInline(tokens);
      if (!/^(https?:|mailto:|\/|#)/i.test(href)) return text;
      return `<a href="${escapeHtml(href)}"${title ? ` title="${escapeHtml(title)}"` : ''} rel="noopener">${text}</a>`;
    },
    image: ({ text }) => escapeHtml(text),
  },
});

export function renderMarkdown(source: string): string {
  return markdown.parse(source, { async: false }) as string;
}

const CACHE_MS = 5000;

/**
 * Terms versions: published, never edited. The version in force is cached briefly (every
 * widget load asks for it); publishing here clears the cache, other processes see it within
 * seconds.
 */
export class TermsService {
  private cached: { value: TermsVersion | undefined; at: number } | undefined;

  constructor(
    private readonly repos: Repositories,
    private readonly clock: Clock,
    /** The language of a version's own text unless its publisher says otherwise. */
    private readonly defaultLanguage: Language = 'en',
  ) {}

  async current(): Promise<TermsVersion | undefined> {
    const now = this.clock.now().getTime();
    if (this.cached && fresh(this.cached.at, now, CACHE_MS)) return this.cached.value;
    const value = await this.repos.terms.current();
    this.cached = { value, at: now };
    return value;
  }

  /** The version in force, or a 503 that says what an operator must do. */
  async requireCurrent(): Promise<TermsVersion> {
    const t = await this.current();
    if (!t) throw new DomainError(503, 'terms_unavailable', 'Signups are closed until the Terms & Conditions are published (POST /api/v1/terms)');
    return t;
  }

  find(version: number): Promise<TermsVersion | undefined> {
    return this.repos.terms.find(version);
  }

  async get(version: number): Promise<TermsVersion> {
    const t = await this.repos.terms.find(version);
    if (!t) throw notFound(`Terms version ${version}`);
    return t;
  }

  list(): Promise<TermsVersion[]> {
    return this.repos.terms.list();
  }

  async publish(input: TermsInput, actor: string, placeholder = false): Promise<TermsVersion> {
    const language = input.language ?? this.defaultLanguage;
    const translations = Object.entries(input.translations ?? {}).filter(([lang]) => lang !== language);
    for (const [lang] of translations) checkLanguage(lang);
    const version = await this.repos.transaction(async (r) => {
      const now = this.clock.now();
      const v = await r.terms.publish({ ...text(language, input), placeholder, publishedBy: actor, now });
      for (const [lang, t] of translations) await r.terms.addTranslation(v, text(lang, t), actor, now);
      await r.audit.record({ actor, action: 'terms.publish', target: `terms:${v}`, details: { title: input.title, language, sha256: sha256(input.bodyMarkdown), translations: translations.map(([lang]) => lang) } });
      return v;
    });
    this.cached = undefined;
    return (await this.repos.terms.find(version))!;
  }

  /**
   * Publishes a version's text in another language. A text once published is never replaced
   * (consent records its hash): a second one for the same language is a 409.
   */
  async addTranslation(version: number, language: string, input: { title: string; bodyMarkdown: string }, actor: string): Promise<TermsVersion> {
    checkLanguage(language);
    const t = await this.get(version);
    if (language === t.language || t.translations.some((x) => x.language === language)) {
      throw new DomainError(409, 'translation_exists', `Terms version ${version} already has its ${language} text; publish a new version to change it`);
    }
    await this.repos.transaction(async (r) => {
      if (!(await r.terms.addTranslation(version, text(language, input), actor, this.clock.now()))) {
        throw new DomainError(409, 'translation_exists', `Terms version ${version} already has its ${language} text; publish a new version to change it`);
      }
      await r.audit.record({ actor, action: 'terms.translate', target: `terms:${version}`, details: { language, sha256: sha256(input.bodyMarkdown) } });
    });
    this.cached = undefined;
    return this.get(version);
  }

  /** Development starts with a clearly marked placeholder so signup can be tried at once. */
  async ensurePlaceholder(): Promise<void> {
    if (await this.repos.terms.current()) return;
    await this.publish({ title: 'Terms & Conditions (placeholder)', bodyMarkdown: PLACEHOLDER_TERMS }, 'system:development', true);
  }
}
