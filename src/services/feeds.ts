import { parseFeed } from 'feedsmith';
import { DomainError, notFound } from '../errors.js';
import type { Repositories } from '../repositories/index.js';
import type { Feed } from '../repositories/feeds.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { ArticleInput, ArticleService } from './articles.js';
import type { Metrics } from '../metrics.js';

const FETCH_TIMEOUT_MS = 15_000;
const MAX_FEED_BYTES = 10 * 1024 * 1024;
const CLAIM_LEASE_MS = 2 * 60_000;
const MAX_BACKOFF_MS = 24 * 3600_000;
const CLAIM_BATCH = 20;
const POLL_CONCURRENCY = 4;

export interface PollOutcome {
  feedId: number;
  status: 'ok' | 'not-modified' | 'error';
  items: number;
  created: number;
  error?: string;
}

/** Plain text from an HTML fragment: feed descriptions carry markup, summaries must not. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<br\s*\/?>|<\/p>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/[ \t\r\f\v]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
}

const BOMS: [number[], string][] = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xfe, 0xff], 'utf-16be'],
  [[0xff, 0xfe], 'utf-16le'],
];

// windows-1252's 0x80-0x9F (curly quotes, dashes, euro...); the five holes stay C1 controls.
const CP1252_HIGH = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/**
 * windows-1252 as WHATWG defines it. Node 20's TextDecoder accepts the label but decodes
 * ISO-8859-1 (0x93 comes out as U+0093, not a quotation mark), so the 32 bytes that differ are
 * mapped here.
 */
function decodeWindows1252(bytes: Uint8Array): string {
  return new TextDecoder('windows-1252').decode(bytes).replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
}

type Decode = (bytes: Uint8Array) => string;

function decoderFor(label: string | undefined): Decode | undefined {
  if (!label) return undefined;
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label);
  } catch {
    return undefined; // a label no decoder knows: the next source decides
  }
  // latin1, iso-8859-1, us-ascii and their aliases all mean windows-1252 to WHATWG.
  return decoder.encoding === 'windows-1252' ? decodeWindows1252 : (bytes) => decoder.decode(bytes);
}

/**
 * Decodes a feed body the way browsers and feed readers do: a byte order mark, else the charset
 * of the Content-Type, else the XML declaration, else UTF-8 when the bytes are valid UTF-8, else
 * windows-1252. Old CMSs serve ISO-8859-1 with no declaration at all (UOL's feed); decoding that
 * as UTF-8 would store U+FFFD for every accented letter. Every byte decodes in windows-1252, so
 * nothing is replaced that the source had.
 */
export function decodeFeed(bytes: Uint8Array, contentType: string | null): string {
  for (const [bom, label] of BOMS) {
    if (bom.every((b, i) => bytes[i] === b)) return new TextDecoder(label).decode(bytes);
  }
  const fromHeader = contentType?.match(/charset\s*=\s*"?([\w.:-]+)"?/i)?.[1];
  const head = decodeWindows1252(bytes.subarray(0, 200));
  const fromProlog = head.match(/^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']/i)?.[1];
  const declared = decoderFor(fromHeader) ?? decoderFor(fromProlog);
  if (declared) return declared(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
}

const text = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && 'value' in v && typeof (v as { value: unknown }).value === 'string') return (v as { value: string }).value;
  return '';
};

function parseDate(...candidates: unknown[]): Date | null {
  for (const c of candidates) {
    if (typeof c !== 'string' || !c) continue;
    const d = new Date(c);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return null;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

type Loose = Record<string, any>;

/**
 * Turns a parsed RSS 2.0, RSS 1.0 (RDF) or Atom document into article inputs. Items without a
 * usable link are skipped: an article is identified by its guid or link.
 */
export function feedToArticles(xml: string, defaults: { section: string | null; tags: string[] }): ArticleInput[] {
  const { format, feed } = parseFeed(xml) as { format: string; feed: Loose };
  const language = typeof feed.language === 'string' ? feed.language.split(/[-_]/)[0]!.toLowerCase() : undefined;
  const items: Loose[] = (format === 'atom' ? feed.entries : feed.items) ?? [];
  const out: ArticleInput[] = [];
  for (const item of items) {
    let link: string | undefined;
    if (format === 'atom') {
      const links: Loose[] = item.links ?? [];
      link = (links.find((l) => !l.rel || l.rel === 'alternate') ?? links[0])?.href;
    } else {
      link = item.link ?? (item.guid?.isPermaLink !== false ? text(item.guid) : undefined);
    }
    link = link?.trim();
    if (!link || !isHttpUrl(link)) continue;
    const guid = format === 'atom' ? text(item.id) : format === 'rdf' ? text(item.rdf?.about) : text(item.guid);
    const title = htmlToText(text(item.title)) || link;
    const summaryHtml = format === 'atom' ? text(item.summary) : text(item.description);
    const bodyHtml = format === 'atom' ? text(item.content) : text(item.content?.encoded ?? item.content?.encodeds?.[0]);
    const categories: string[] =
      format === 'atom'
        ? (item.categories ?? []).map((c: Loose) => c.label ?? c.term)
        : format === 'rdf'
          ? (item.dc?.subjects ?? [])
          : (item.categories ?? []).map((c: Loose) => c.name);
    out.push({
      externalId: guid && guid !== link ? guid.slice(0, 500) : null,
      url: link,
      title: title.slice(0, 500),
      summary: htmlToText(summaryHtml).slice(0, 5000),
      body: htmlToText(bodyHtml).slice(0, 200_000),
      tags: [...new Set([...defaults.tags, ...categories.filter((c): c is string => typeof c === 'string' && c.trim() !== '')])].slice(0, 50),
      section: defaults.section,
      language: language ?? null,
      publishedAt: parseDate(item.pubDate, item.published, item.updated, item.dc?.dates?.[0], item.dc?.date),
    });
  }
  return out;
}

export interface FeedServiceOptions {
  pollMinutes: number;
  userAgent: string;
}

export class FeedService {
  constructor(
    private readonly repos: Repositories,
    private readonly articles: ArticleService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: FeedServiceOptions,
    private readonly metrics?: Metrics,
  ) {}

  list(): Promise<Feed[]> {
    return this.repos.feeds.list();
  }

  async add(input: { url: string; name?: string; section?: string | null; tags?: string[] }, actor: string): Promise<Feed> {
    return this.repos.transaction(async (r) => {
      const feed = await r.feeds.insert({ url: input.url, name: input.name ?? '', defaultSection: input.section ?? null, defaultTags: input.tags ?? [], nextPollAt: this.clock.now() });
      if (!feed) throw new DomainError(409, 'feed_exists', 'This feed URL is already registered', [{ path: 'url', message: 'already registered' }]);
      await r.audit.record({ actor, action: 'feed.create', target: `feed:${feed.id}`, details: { url: input.url } });
      return feed;
    });
  }

  async remove(id: number, actor: string): Promise<void> {
    await this.repos.transaction(async (r) => {
      if (!(await r.feeds.delete(id))) throw notFound(`Feed ${id}`);
      await r.audit.record({ actor, action: 'feed.delete', target: `feed:${id}` });
    });
  }

  /**
   * Polls every due feed once. Feeds are claimed with a lease (several workers never poll the
   * same feed at once) and each feed's failure is recorded on it alone.
   */
  async pollDue(signal?: AbortSignal): Promise<PollOutcome[]> {
    const outcomes: PollOutcome[] = [];
    while (!signal?.aborted) {
      const batch = await this.repos.feeds.claimDue(this.clock.now(), CLAIM_LEASE_MS, CLAIM_BATCH);
      if (batch.length === 0) break;
      for (let i = 0; i < batch.length; i += POLL_CONCURRENCY) {
        outcomes.push(...(await Promise.all(batch.slice(i, i + POLL_CONCURRENCY).map((f) => this.poll(f)))));
      }
    }
    return outcomes;
  }

  private async poll(feed: Feed): Promise<PollOutcome> {
    const interval = this.opts.pollMinutes * 60_000;
    try {
      const headers: Record<string, string> = {
        'user-agent': this.opts.userAgent,
        accept: 'application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1',
      };
      if (feed.etag) headers['if-none-match'] = feed.etag;
      if (feed.lastModified) headers['if-modified-since'] = feed.lastModified;
      const res = await fetch(feed.url, { headers, redirect: 'follow', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (res.status === 304) {
        await res.body?.cancel();
        const now = this.clock.now();
        await this.repos.feeds.recordSuccess(feed.id, { now, nextPollAt: new Date(now.getTime() + interval), etag: feed.etag, lastModified: feed.lastModified, items: 0 });
        return { feedId: feed.id, status: 'not-modified', items: 0, created: 0 };
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
      }
      const declared = Number(res.headers.get('content-length') ?? 0);
      if (declared > MAX_FEED_BYTES) throw new Error(`feed is larger than ${MAX_FEED_BYTES} bytes`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.byteLength > MAX_FEED_BYTES) throw new Error(`feed is larger than ${MAX_FEED_BYTES} bytes`);
      let items: ArticleInput[];
      try {
        items = feedToArticles(decodeFeed(bytes, res.headers.get('content-type')), { section: feed.defaultSection, tags: feed.defaultTags });
      } catch (err) {
        throw new Error(`not a valid RSS or Atom feed: ${(err as Error).message}`);
      }
      let created = 0;
      for (const item of items) {
        const result = await this.articles.ingest(item, 'feed', feed.id);
        if (result.outcome === 'created') created++;
      }
      const now = this.clock.now();
      await this.repos.feeds.recordSuccess(feed.id, {
        now,
        nextPollAt: new Date(now.getTime() + interval),
        etag: res.headers.get('etag'),
        lastModified: res.headers.get('last-modified'),
        items: items.length,
      });
      this.logger.info({ feedId: feed.id, items: items.length, created }, 'feed polled');
      return { feedId: feed.id, status: 'ok', items: items.length, created };
    } catch (err) {
      const message = err instanceof Error ? (err.name === 'TimeoutError' ? `timed out after ${FETCH_TIMEOUT_MS} ms` : err.message) : String(err);
      const now = this.clock.now();
      // Exponential back-off with jitter, capped at a day: a broken feed is retried, not hammered.
      const backoff = Math.min(interval * 2 ** Math.min(feed.consecutiveFailures + 1, 16), MAX_BACKOFF_MS);
      const nextPollAt = new Date(now.getTime() + backoff * (0.8 + Math.random() * 0.4));
      await this.repos.feeds.recordFailure(feed.id, { now, nextPollAt, error: message });
      this.metrics?.feedErrors.inc();
      this.logger.warn({ feedId: feed.id, error: message }, 'feed poll failed');
      return { feedId: feed.id, status: 'error', items: 0, created: 0, error: message };
    }
  }
}
