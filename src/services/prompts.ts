import { createHash } from 'node:crypto';
import type { Repositories } from '../repositories/index.js';
import type { Topic } from '../repositories/topics.js';
import type { Clock } from '../clock.js';
import { FREQUENCIES, type Frequency, type PromptEvent } from '../db/types.js';
import type { TermsService } from './terms.js';
import type { I18nService, LanguageHints } from '../i18n/service.js';
import { languageOf, acceptedLanguages, type Language } from '../i18n/languages.js';
import { topicName } from '../repositories/topics.js';
import type { Messages } from '../i18n/translator.js';
import type { Links } from './links.js';
import type { Metrics } from '../metrics.js';
import type { PromptCountBuffer } from './prompt-counts.js';
import type { ActiveTopicCache } from './topic-cache.js';
import { fresh } from './cache-age.js';

export interface WidgetConfig {
  /** The language the box is in, and its direction. */
  language: Language;
  dir: 'ltr' | 'rtl';
  topics: { slug: string; name: string; checked: boolean }[];
  heading: string;
  submitLabel: string;
  dismissLabel: string;
  /** Every other word of the box, by name (BOX_STRINGS), in `language`. */
  strings: Record<string, string>;
  /** `text` is what the reader is shown and what their consent records; `linkText` is the part of it that links to the terms. */
  consent: { mode: 'checkbox' | 'statement'; text: string; linkText: string; termsUrl: string; termsVersion: number | null };
  frequencies: Frequency[];
  defaultFrequency: 'daily';
  snoozeDays: number;
  publisherName: string;
}

export interface PromptOptions {
  consentMode: 'checkbox' | 'statement';
  baseUrl: string;
  publisherName: string;
  snoozeDays: number;
  maxTopics: number;
  defaultTopics: string[];
}

/** The box's words besides heading and buttons: catalogue key `box.<name>`. */
export const BOX_STRINGS = [
  'intro', 'topic', 'topics', 'email', 'frequency', 'frequency.instant', 'frequency.daily', 'frequency.weekly', 'honeypot',
  'sending', 'success', 'tooMany', 'termsChanged', 'unavailable', 'network', 'generic', 'formExpired', 'error.email', 'error.topics', 'error.consent',
] as const;

/** The consent sentence and the words in it that link to the terms. */
export function consentWords(m: Messages, mode: 'checkbox' | 'statement'): { text: string; linkText: string } {
  const parts = m.segments(`consent.${mode}`);
  return { text: parts.map((p) => p.text).join(''), linkText: parts.find((p) => p.tag === 'terms')?.text ?? '' };
}

const SPECIFICITY_WINDOW_MS = 30 * 86_400_000;
const TOPICS_CACHE_MS = 5000;
const CONFIG_CACHE_ENTRIES = 5000;
const FORM_TOKEN_REUSE_MS = 250;

/**
 * The signup prompt: what the widget shows (topics, consent, terms) and the anonymous counts of
 * prompts shown and dismissed. Topics are read through a short cache: widget-config is asked on
 * every page view.
 */
export class PromptService {
  /** Computed answers by (topics, article), for as long as the topic cache: most page views hit it. */
  private configCache = new Map<string, { at: number; value: { config: WidgetConfig; etag: string } }>();

  constructor(
    private readonly repos: Repositories,
    private readonly terms: TermsService,
    private readonly links: Links,
    private readonly clock: Clock,
    private readonly opts: PromptOptions,
    private readonly counts: PromptCountBuffer,
    private readonly topics: ActiveTopicCache,
    private readonly i18n: I18nService,
    private readonly metrics?: Metrics,
  ) {
    topics.onInvalidate(() => this.configCache.clear());
    // the publisher's own words show in the next box at once
    i18n.onChange(() => this.configCache.clear());
  }

  private activeTopics(): Promise<Map<string, Topic>> {
    return this.topics.bySlug();
  }

  /** Forget cached topics and answers (topics changed). */
  invalidate(): void {
    this.topics.invalidate();
  }

  /**
   * Topics for a prompt: the article's matched topics when the article is known, else the
   * page's hand-picked ones, else the site defaults. Never throws for unknown input: a reader's
   * page must not show an error.
   */
  async topicsFor(slugs: string[], article: string | undefined): Promise<Topic[]> {
    return (await this.forArticle(slugs, article)).topics;
  }

  /** The prompt's topics and the article's language (from ingest), when the article is known. */
  async forArticle(slugs: string[], article: string | undefined): Promise<{ topics: Topic[]; language: string | null }> {
    const active = await this.activeTopics();
    const picked = (list: string[]) => [...new Set(list)].map((s) => active.get(s)).filter((t): t is Topic => t !== undefined);
    let chosen: Topic[] = [];
    let language: string | null = null;
    if (article) {
      const found = await this.repos.articles.findByIdentifier(article);
      if (found) {
        language = found.language;
        const since = new Date(this.clock.now().getTime() - SPECIFICITY_WINDOW_MS);
        chosen = await this.repos.topics.promptTopicsForArticle(found.id, since, this.opts.maxTopics);
      }
    }
    // Hand-picked topics are added after the article's (both may be given), hidden ones excluded.
    for (const t of picked(slugs)) if (!t.promptHidden && !chosen.some((c) => c.id === t.id)) chosen.push(t);
    if (chosen.length === 0) chosen = picked(this.opts.defaultTopics);
    return { topics: chosen, language };
  }

  /**
   * The box for these topics or this article, in the reader's language: `?lang=`, else the
   * article's (from ingest), else the page's `lang`, else the browser's, else the site's.
   */
  async config(slugs: string[], article: string | undefined, hints: Pick<LanguageHints, 'query' | 'page' | 'acceptLanguage'> = {}): Promise<{ config: WidgetConfig; etag: string }> {
    // The terms version is part of the key: a newly published version shows at once (a signup
    // on the old one gets 409 terms_outdated and the widget reloads this). The language hints
    // are in it as the languages they name, so that any browser asking for Arabic shares one entry.
    const browser = acceptedLanguages(hints.acceptLanguage).map((l) => languageOf(l)).find((l) => l !== undefined) ?? '';
    const langKey = `${languageOf(hints.query) ?? ''}|${languageOf(hints.page) ?? ''}|${browser}`;
    const key = `${(await this.terms.current())?.version ?? 0}|${slugs.join(',')}|${article ?? ''}|${langKey}`;
    const hit = this.configCache.get(key);
    const nowMs = this.clock.now().getTime();
    if (hit && fresh(hit.at, nowMs, TOPICS_CACHE_MS)) return hit.value;
    const value = await this.computeConfig(slugs, article, { query: hints.query, page: hints.page, acceptLanguage: browser });
    if (this.configCache.size >= CONFIG_CACHE_ENTRIES) this.configCache.delete(this.configCache.keys().next().value!);
    this.configCache.set(key, { at: nowMs, value });
    return value;
  }

  private async computeConfig(slugs: string[], article: string | undefined, hints: LanguageHints): Promise<{ config: WidgetConfig; etag: string }> {
    const { topics, language: articleLanguage } = await this.forArticle(slugs, article);
    const terms = await this.terms.current();
    const language = this.i18n.choose({ ...hints, article: articleLanguage });
    const m = await this.i18n.messages(language);
    const values = { publisherName: this.opts.publisherName };
    const strings: Record<string, string> = {};
    for (const name of BOX_STRINGS) strings[name] = m.t(`box.${name}`, values);
    const config: WidgetConfig = {
      language,
      dir: m.dir,
      topics: topics.map((t, i) => ({ slug: t.slug, name: topicName(t, language), checked: i === 0 })),
      heading: m.t(topics.length === 1 ? 'box.heading.one' : 'box.heading.many', values),
      submitLabel: m.t('box.submit', values),
      dismissLabel: m.t('box.dismiss', values),
      strings,
      consent: {
        mode: this.opts.consentMode,
        ...consentWords(m, this.opts.consentMode),
        termsUrl: `${this.opts.baseUrl}/terms${terms ? `/${terms.version}` : ''}?lang=${language}`,
        termsVersion: terms?.version ?? null,
      },
      frequencies: [...FREQUENCIES],
      defaultFrequency: 'daily',
      snoozeDays: this.opts.snoozeDays,
      publisherName: this.opts.publisherName,
    };
    // The day is part of the ETag so that a client revalidating a cached answer gets a fresh
    // form token at least daily (the token must be under MAX_FORM_AGE when submitted).
    const day = this.clock.now().toISOString().slice(0, 10);
    const etag = `W/"${createHash('sha256').update(day).update(JSON.stringify(config)).digest('base64url').slice(0, 22)}"`;
    return { config, etag };
  }

  /**
   * A signed, timestamped form token for the time trap. Every page view asks for one; the same
   * token is handed out for FORM_TOKEN_REUSE_MS (an HMAC per request was 6% of widget-config's
   * CPU), which shortens a bot's wait by at most that much.
   */
  formToken(): string {
    const now = this.clock.now();
    const age = now.getTime() - this.tokenIssuedAt;
    if (this.token === undefined || age < 0 || age >= FORM_TOKEN_REUSE_MS) {
      this.token = this.links.formToken(now);
      this.tokenIssuedAt = now.getTime();
    }
    return this.token;
  }
  private token: string | undefined;
  private tokenIssuedAt = 0;

  /** Counts a prompt event for each known active topic; unknown slugs are ignored. */
  async record(slugs: string[], event: Exclude<PromptEvent, 'signup'>): Promise<void> {
    const active = await this.activeTopics();
    const ids = [...new Set(slugs)].map((s) => active.get(s)?.id).filter((id): id is number => id !== undefined);
    this.metrics?.promptEvents.inc({ event });
    await this.counts.add(this.clock.now().toISOString().slice(0, 10), ids, event);
  }
}
