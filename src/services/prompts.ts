import { createHash } from 'node:crypto';
import type { Repositories } from '../repositories/index.js';
import type { Topic } from '../repositories/topics.js';
import type { Clock } from '../clock.js';
import { FREQUENCIES, type Frequency, type PromptEvent } from '../db/types.js';
import { CONSENT_TEXT, type TermsService } from './terms.js';
import type { Links } from './links.js';
import type { Metrics } from '../metrics.js';
import type { PromptCountBuffer } from './prompt-counts.js';
import type { ActiveTopicCache } from './topic-cache.js';
import { fresh } from './cache-age.js';

export interface WidgetConfig {
  topics: { slug: string; name: string; checked: boolean }[];
  heading: string;
  submitLabel: string;
  dismissLabel: string;
  consent: { mode: 'checkbox' | 'statement'; text: string; termsUrl: string; termsVersion: number | null };
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
    private readonly metrics?: Metrics,
  ) {
    topics.onInvalidate(() => this.configCache.clear());
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
    const active = await this.activeTopics();
    const picked = (list: string[]) => [...new Set(list)].map((s) => active.get(s)).filter((t): t is Topic => t !== undefined);
    let chosen: Topic[] = [];
    if (article) {
      const found = await this.repos.articles.findByIdentifier(article);
      if (found) {
        const since = new Date(this.clock.now().getTime() - SPECIFICITY_WINDOW_MS);
        chosen = await this.repos.topics.promptTopicsForArticle(found.id, since, this.opts.maxTopics);
      }
    }
    // Hand-picked topics are added after the article's (both may be given), hidden ones excluded.
    for (const t of picked(slugs)) if (!t.promptHidden && !chosen.some((c) => c.id === t.id)) chosen.push(t);
    if (chosen.length === 0) chosen = picked(this.opts.defaultTopics);
    return chosen;
  }

  async config(slugs: string[], article: string | undefined): Promise<{ config: WidgetConfig; etag: string }> {
    // The terms version is part of the key: a newly published version shows at once (a signup
    // on the old one gets 409 terms_outdated and the widget reloads this).
    const key = `${(await this.terms.current())?.version ?? 0}|${slugs.join(',')}|${article ?? ''}`;
    const hit = this.configCache.get(key);
    const nowMs = this.clock.now().getTime();
    if (hit && fresh(hit.at, nowMs, TOPICS_CACHE_MS)) return hit.value;
    const value = await this.computeConfig(slugs, article);
    if (this.configCache.size >= CONFIG_CACHE_ENTRIES) this.configCache.delete(this.configCache.keys().next().value!);
    this.configCache.set(key, { at: nowMs, value });
    return value;
  }

  private async computeConfig(slugs: string[], article: string | undefined): Promise<{ config: WidgetConfig; etag: string }> {
    const topics = await this.topicsFor(slugs, article);
    const terms = await this.terms.current();
    const config: WidgetConfig = {
      topics: topics.map((t, i) => ({ slug: t.slug, name: t.name, checked: i === 0 })),
      heading: topics.length === 1 ? 'Get the latest news on this topic' : 'Get the latest news on these topics',
      submitLabel: 'Sign up for free today',
      dismissLabel: 'No Thanks',
      consent: {
        mode: this.opts.consentMode,
        text: CONSENT_TEXT[this.opts.consentMode],
        termsUrl: terms ? `${this.opts.baseUrl}/terms/${terms.version}` : `${this.opts.baseUrl}/terms`,
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
