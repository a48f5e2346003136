import { readFileSync } from 'node:fs';
import type { Repositories } from '../repositories/index.js';
import type { ArticleService, ArticleInput } from './articles.js';
import type { TopicService, TopicInput } from './topics.js';

// What a newcomer sees on a fresh install: a few topics and a real article that matches them.
export const DEMO_TOPICS: TopicInput[] = [
  { slug: 'russia', name: 'Russia', description: 'News about Russia and the Kremlin.', query: 'russia OR russian OR moscow OR kremlin OR tag:russia' },
  { slug: 'japan', name: 'Japan', description: 'News about Japan.', query: 'japan OR japanese OR tokyo OR tag:japan' },
  { slug: 'nato', name: 'NATO', description: 'The North Atlantic alliance.', query: 'nato OR "north atlantic treaty" OR tag:nato' },
  { slug: 'ukraine', name: 'Ukraine', description: 'The war in Ukraine and its diplomacy.', query: 'ukraine OR ukrainian OR kyiv OR tag:ukraine' },
  { slug: 'energy', name: 'Energy', description: 'Oil, gas, power and the energy transition.', query: 'energy OR oil OR gas OR electricity OR tag:energy' },
];

interface FixtureArticle {
  externalId?: string;
  url: string;
  title: string;
  summary?: string;
  body?: string;
  tags?: string[];
  section?: string;
  language?: string;
  publishedAt?: string;
}

export function demoArticles(): ArticleInput[] {
  const raw = JSON.parse(readFileSync(new URL('../demo/articles.json', import.meta.url), 'utf8')) as FixtureArticle[];
  return raw.map((a) => ({ ...a, publishedAt: a.publishedAt ? new Date(a.publishedAt) : null }));
}

const SAMPLE_HEADLINES: [string, string, string[]][] = [
  ['Japan and NATO agree to deepen defence industry ties', 'Tokyo and the alliance set out joint procurement plans for Ukraine.', ['japan', 'nato', 'ukraine']],
  ['Russia summons Japanese ambassador over NATO talks', 'Moscow protests against Tokyo joining an alliance arms mechanism.', ['russia', 'japan', 'nato']],
  ['Gas prices fall as Europe fills its storage early', 'Mild weather and new supply routes ease pressure on energy markets.', ['energy']],
];

export class DemoService {
  constructor(
    private readonly topics: TopicService,
    private readonly articles: ArticleService,
    private readonly repos: Repositories,
  ) {}

  /** Whether the database has no topics yet (a fresh install). */
  async isEmpty(): Promise<boolean> {
    return (await this.repos.topics.count()) === 0;
  }

  /**
   * Publishes a few fresh sample articles (new URLs each time), so a newcomer who signed up
   * sees them matched and, with an instant subscription, mailed within the batch interval.
   */
  async publishSamples(now: Date): Promise<{ published: number; matched: string[] }> {
    const matched = new Set<string>();
    const stamp = now.getTime().toString(36);
    for (const [i, [title, summary, tags]] of SAMPLE_HEADLINES.entries()) {
      const r = await this.articles.ingest(
        { externalId: `demo-${stamp}-${i}`, url: `https://news.example/demo/${stamp}/${i}`, title, summary, body: summary, tags, section: 'world', language: 'en', publishedAt: now },
        'demo',
      );
      for (const slug of r.matchedTopics) matched.add(slug);
    }
    return { published: SAMPLE_HEADLINES.length, matched: [...matched].sort() };
  }

  /** Creates the demo topics that do not exist yet and ingests the fixture article. Safe to repeat. */
  async seed(actor = 'system:demo'): Promise<{ topicsCreated: number; articles: number; matched: string[] }> {
    let topicsCreated = 0;
    for (const t of DEMO_TOPICS) {
      if (await this.repos.topics.findBySlug(t.slug)) continue;
      await this.topics.create(t, actor);
      topicsCreated++;
    }
    const matched = new Set<string>();
    const list = demoArticles();
    for (const a of list) for (const slug of (await this.articles.ingest(a, 'demo')).matchedTopics) matched.add(slug);
    return { topicsCreated, articles: list.length, matched: [...matched].sort() };
  }
}
