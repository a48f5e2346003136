import { createHash } from 'node:crypto';
import { Marked } from 'marked';
import { DomainError, notFound } from '../errors.js';
import type { Repositories } from '../repositories/index.js';
import type { TermsVersion } from '../repositories/terms.js';
import type { Clock } from '../clock.js';
import { escapeHtml } from '../escape-html.js';
import { fresh } from './cache-age.js';

export const CONSENT_TEXT = {
  checkbox: 'I agree to the Terms & Conditions',
  statement: 'By signing up to this email alert, you agree to our Terms & Conditions',
} as const;

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

  constructor(private readonly repos: Repositories, private readonly clock: Clock) {}

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

  async publish(input: { title: string; bodyMarkdown: string }, actor: string, placeholder = false): Promise<TermsVersion> {
    const published = await this.repos.transaction(async (r) => {
      const t = await r.terms.publish({
        title: input.title,
        bodyMarkdown: input.bodyMarkdown,
        bodySha256: createHash('sha256').update(input.bodyMarkdown).digest('hex'),
        placeholder,
        publishedBy: actor,
        now: this.clock.now(),
      });
      await r.audit.record({ actor, action: 'terms.publish', target: `terms:${t.version}`, details: { title: t.title, sha256: t.bodySha256 } });
      return t;
    });
    this.cached = undefined;
    return published;
  }

  /** Development starts with a clearly marked placeholder so signup can be tried at once. */
  async ensurePlaceholder(): Promise<void> {
    if (await this.repos.terms.current()) return;
    await this.publish({ title: 'Terms & Conditions (placeholder)', bodyMarkdown: PLACEHOLDER_TERMS }, 'system:development', true);
  }
}
