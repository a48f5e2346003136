import { IntlMessageFormat } from 'intl-messageformat';
import type { Repositories } from '../repositories/index.js';
import type { Clock } from '../clock.js';
import { invalid } from '../errors.js';
import { fresh } from '../services/cache-age.js';
import { acceptedLanguages, chooseLanguage, isLanguage, LANGUAGES, type Language } from './languages.js';
import { messageNames, type Messages, type Translator } from './translator.js';
import { termsTextIn } from '../services/terms.js';
import type { TermsVersion } from '../repositories/terms.js';

export type ConsentMode = 'checkbox' | 'statement';

/** What a consent event records of the words the reader was shown. */
export interface ConsentWords {
  /** The consent sentence as shown (tags dropped), in `language`. */
  consentText: string;
  consentMode: ConsentMode;
  language: Language;
  termsVersion: number;
  /** The hash of the terms text accepted, and its language (the version's own when it has none in `language`). */
  termsSha256: string;
  termsLanguage: string;
}

export interface LanguageHints {
  /** `?lang=` of a page or the widget's config request: the reader's explicit choice. */
  query?: string | null;
  /** A known subscriber's language. */
  subscriber?: string | null;
  /** The article's language (from ingest) or the page's `lang`, for a signup from the box. */
  article?: string | null;
  page?: string | null;
  acceptLanguage?: string | null;
}

const OVERRIDES_TTL_MS = 5000;

/**
 * Which language a reader reads, and its messages with the publisher's own words on top. The
 * overrides are read at most every few seconds and at once after a change in this process.
 */
export class I18nService {
  private loadedAt: number | undefined;
  private loading: Promise<void> | undefined;
  private listeners: (() => void)[] = [];

  constructor(
    private readonly repos: Repositories,
    private readonly clock: Clock,
    private readonly translator: Translator,
    readonly defaultLanguage: Language,
  ) {}

  /** The language for a reader: the explicit choice, the subscriber's, the article's or page's, the browser's, the site's. */
  choose(h: LanguageHints): Language {
    return chooseLanguage([h.query, h.subscriber, h.article, h.page, ...acceptedLanguages(h.acceptLanguage)], this.defaultLanguage);
  }

  /** Called after this process changes an override (caches built from the words drop them). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** The consent sentence in `lang` and the terms text a reader in `lang` accepts. */
  async consent(lang: Language, mode: ConsentMode, terms: TermsVersion): Promise<ConsentWords> {
    const m = await this.messages(lang);
    const text = termsTextIn(terms, lang);
    return { consentText: m.t(`consent.${mode}`), consentMode: mode, language: lang, termsVersion: terms.version, termsSha256: text.bodySha256, termsLanguage: text.language };
  }

  async messages(lang: string): Promise<Messages> {
    await this.refresh();
    return this.translator.messages(isLanguage(lang) ? lang : this.defaultLanguage);
  }

  private async refresh(): Promise<void> {
    const now = this.clock.now().getTime();
    if (this.loadedAt !== undefined && fresh(this.loadedAt, now, OVERRIDES_TTL_MS)) return;
    this.loading ??= (async () => {
      const map = new Map<Language, Map<string, string>>();
      for (const o of await this.repos.textOverrides.all()) {
        if (!isLanguage(o.language) || this.translator.english[o.key] === undefined) continue;
        let m = map.get(o.language);
        if (!m) map.set(o.language, (m = new Map()));
        m.set(o.key, o.text);
      }
      this.translator.setOverrides(map);
      this.loadedAt = now;
    })().finally(() => {
      this.loading = undefined;
    });
    await this.loading;
  }

  /** Every message key with its English text, its text in `lang`, and the override if any (console). */
  async wording(lang: Language) {
    const overrides = (await this.repos.textOverrides.all()).filter((o) => o.language === lang);
    const byKey = new Map(overrides.map((o) => [o.key, o]));
    const catalogue = this.translator.catalogue(lang);
    return Object.keys(this.translator.english).map((key) => ({ key, english: this.translator.english[key]!, shipped: catalogue[key] ?? null, override: byKey.get(key) ?? null }));
  }

  /**
   * Sets (or with null, removes) the publisher's own text for one message in one language. It
   * must be a valid ICU message using no placeholder or tag the English one lacks. Audited.
   */
  async setOverride(lang: string, key: string, text: string | null, actor: string): Promise<void> {
    if (!isLanguage(lang)) throw invalid(`Not a language: ${lang}`, [{ path: 'language', message: `must be one of ${LANGUAGES.join(', ')}` }]);
    const english = this.translator.english[key];
    if (english === undefined) throw invalid(`No message has the key ${key}`, [{ path: 'key', message: 'unknown' }]);
    if (text !== null) checkMessage(text, english, lang);
    await this.repos.transaction(async (r) => {
      if (text === null) await r.textOverrides.remove(lang, key);
      else await r.textOverrides.set(lang, key, text, actor, this.clock.now());
      await r.audit.record({ actor, action: text === null ? 'wording.reset' : 'wording.set', target: `${lang}:${key}`, details: { text } });
    });
    this.loadedAt = undefined;
    for (const fn of this.listeners) fn();
  }
}

/** A message a publisher wrote: parses, and uses only what the English one uses. */
export function checkMessage(text: string, english: string, lang: Language): void {
  let names;
  try {
    names = messageNames(text);
    new IntlMessageFormat(text, lang);
  } catch (err) {
    throw invalid(`The text is not a valid message: ${(err as Error).message}`, [{ path: 'text', message: 'is not valid ICU MessageFormat (check the braces)' }]);
  }
  const allowed = messageNames(english);
  const extra = [...names.args.keys()].filter((a) => !allowed.args.has(a)).map((a) => `{${a}}`).concat([...names.tags].filter((t) => !allowed.tags.has(t)).map((t) => `<${t}>`));
  if (extra.length > 0) throw invalid(`The text uses ${extra.join(', ')}, which this message does not have`, [{ path: 'text', message: `may use only ${[...allowed.args.keys()].map((a) => `{${a}}`).concat([...allowed.tags].map((t) => `<${t}>`)).join(', ') || 'no placeholders'}` }]);
}
