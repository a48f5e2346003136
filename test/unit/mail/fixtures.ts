import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  ConfirmMailData,
  DigestMailData,
  DigestSection,
  MailCommonData,
  ManageLinkMailData,
} from '../../../src/mail/templates.js';

export const TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../templates');

export const BASE_URL = 'https://alerts.example.com';

export function common(overrides: Partial<MailCommonData> = {}): MailCommonData {
  return {
    lang: 'en-GB',
    timeZone: 'Europe/London',
    publisherName: 'The Daily Bugle',
    postalAddress: '1 Fleet Street, London EC4A 2AB, United Kingdom',
    baseUrl: BASE_URL,
    ...overrides,
  };
}

export function confirmData(overrides: Partial<ConfirmMailData> = {}): ConfirmMailData {
  return {
    ...common(),
    topics: [
      { name: 'Japan', slug: 'japan' },
      { name: 'NATO', slug: 'nato' },
    ],
    frequency: 'daily',
    confirmUrl: `${BASE_URL}/confirm/c0nf1rm?src=mail`,
    declineUrl: `${BASE_URL}/decline/d3cl1ne`,
    expiresAt: new Date('2026-12-01T10:00:00Z'),
    termsVersion: 3,
    termsUrl: `${BASE_URL}/terms/3`,
    ...overrides,
  };
}

export function manageLinkData(overrides: Partial<ManageLinkMailData> = {}): ManageLinkMailData {
  return {
    ...common(),
    preferencesUrl: `${BASE_URL}/preferences/pr3fs`,
    expiresAt: '2026-12-02T08:30:00Z',
    ...overrides,
  };
}

const TOPICS = ['Japan', 'NATO', 'Climate', 'Elections', 'Football', 'Economy', 'Space', 'Health'];
const WORDS = ['talks', 'summit', 'vote', 'storm', 'deal', 'report', 'record', 'crisis', 'plan', 'court', 'strike', 'win'];

/**
 * A digest that differs with `seed` in names, URLs, titles and times: ~3 topics × ~5 articles.
 * Used by the tests and by bench/render.ts.
 */
export function digestData(
  seed = 0,
  opts: { topics?: number; articles?: number; more?: boolean } = {},
): DigestMailData {
  const topicCount = opts.topics ?? 3;
  const perTopic = opts.articles ?? 5;
  const token = `t${seed.toString(36)}x${(seed * 7919).toString(36)}`;
  const sections: DigestSection[] = [];
  for (let t = 0; t < topicCount; t++) {
    const name = TOPICS[(seed + t) % TOPICS.length] ?? 'Topic';
    const slug = `${name.toLowerCase()}-${(seed + t) % 97}`;
    const articles = [];
    for (let a = 0; a < perTopic; a++) {
      const n = seed * 31 + t * 7 + a;
      articles.push({
        title: `${name} ${WORDS[n % WORDS.length]} #${n}: what we know so far`,
        url: `https://news.example.com/${slug}/article-${n}?utm_source=alerts&utm_medium=email&s=${token}`,
        summary:
          a % 3 === 2 ? undefined : `Story ${n} about ${name.toLowerCase()}: a short summary of the key points, in one or two sentences.`,
        publishedAt: new Date(Date.UTC(2026, 10, 25, 6 + ((a + t) % 12), (n * 13) % 60)),
      });
    }
    const moreCount = opts.more === false ? 0 : (seed + t) % 3;
    sections.push({
      topic: { name, slug, url: `https://news.example.com/topics/${slug}` },
      unsubscribeUrl: `${BASE_URL}/unsubscribe/${token}?topic=${slug}`,
      articles,
      moreCount,
      moreUrl: `https://news.example.com/topics/${slug}`,
    });
  }
  const articleCount = sections.reduce((sum, s) => sum + s.articles.length + s.moreCount, 0);
  return {
    ...common({ lang: seed % 2 === 0 ? 'en-GB' : 'en-US', timeZone: seed % 2 === 0 ? 'Europe/London' : 'America/New_York' }),
    preferencesUrl: `${BASE_URL}/preferences/${token}`,
    unsubscribeUrl: `${BASE_URL}/unsubscribe/${token}`,
    sections,
    articleCount,
    topicNames: sections.map((s) => s.topic.name),
    confirmedAt: new Date(Date.UTC(2026, 2, 3, 12, 0)),
    frequency: 'daily',
  };
}

/** Every URL a digest links to (the text part must carry all of them). */
export function digestUrls(d: DigestMailData): string[] {
  const urls = [d.preferencesUrl, d.unsubscribeUrl];
  for (const s of d.sections) {
    urls.push(s.topic.url, s.unsubscribeUrl);
    if (s.moreCount > 0) urls.push(s.moreUrl);
    for (const a of s.articles) urls.push(a.url);
  }
  return urls;
}
