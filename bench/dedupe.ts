/**
 * Story (near-duplicate) benchmark.
 *
 *   npx tsx bench/dedupe.ts [--quick]
 *
 * 1. Quality: the labelled set in test/fixtures/stories (real feed articles and syndicated copies
 *    of them) goes through the story index in its shuffled order at the service's threshold;
 *    precision and recall over pairs of articles ("same story?").
 * 2. Speed: signature + lookup of new articles against 1M stored signatures in memory (100k with
 *    --quick), against a scan of every stored signature (the baseline, sampled) in the same run.
 * 3. Cost: articles/s through the service's ingest (PostgreSQL, TEST_DATABASE_URL or local) with
 *    stories and without, alternating, in the same run.
 * Progress goes to stderr; the last lines of stdout are one JSON object per result.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config/index.js';
import { jaccard, containment, signatureOf, storyText, BINS } from '../src/stories/signature.js';
import { StoryIndex } from '../src/stories/story-index.js';
import { createBenchDatabase } from './lib/db.js';
import { benchContext } from './lib/context.js';
import type { MailTransport } from '../src/mail/index.js';

const QUICK = process.argv.includes('--quick');
const STORED = QUICK ? 100_000 : 1_000_000;
const LOOKUPS = QUICK ? 5_000 : 20_000;
const SCAN_SAMPLE = QUICK ? 20 : 10;
const INGEST = QUICK ? 400 : 2_000;
const WINDOW_MS = 7 * 86_400_000;
const THRESHOLD = loadConfig({}).stories.threshold;
const log = (msg: string) => process.stderr.write(`[dedupe] ${msg}\n`);

// ------------------------------------------------------------------ 1. quality

interface Labelled {
  id: string;
  story: string;
  title: string;
  body: string;
  publishedAt: string;
}

function quality() {
  const set = JSON.parse(readFileSync(new URL('../test/fixtures/stories/labelled.json', import.meta.url), 'utf8')) as Labelled[];
  const index = new StoryIndex();
  const predicted = new Map<string, number>();
  set.forEach((a, i) => {
    const sig = signatureOf(storyText(a));
    const at = new Date(a.publishedAt);
    let story = i + 1;
    if (sig) {
      story = index.best(sig, THRESHOLD, at, WINDOW_MS)?.storyId ?? story;
      index.add({ articleId: i + 1, storyId: story, publishedAt: at, signature: sig });
    }
    predicted.set(a.id, story);
  });
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < set.length; i++) {
    for (let j = i + 1; j < set.length; j++) {
      const same = set[i]!.story === set[j]!.story;
      const joined = predicted.get(set[i]!.id) === predicted.get(set[j]!.id);
      if (same && joined) tp++;
      else if (joined) fp++;
      else if (same) fn++;
    }
  }
  return { labelled_articles: set.length, labelled_stories: new Set(set.map((a) => a.story)).size, threshold: THRESHOLD, precision: round(tp / (tp + fp), 4), recall: round(tp / (tp + fn), 4), pairs_same_story: tp + fn };
}

// ------------------------------------------------------------------ synthetic text

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(7);
// Word ranks with a long tail (P(rank) ~ 1/rank over 200k words), as base-36 pseudo-words.
const word = () => `z${Math.floor(Math.pow(200_000, rnd())).toString(36)}q`;
const text = (n: number) => Array.from({ length: n }, word).join(' ');
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

// ------------------------------------------------------------------ 2. speed

function speed() {
  const index = new StoryIndex();
  const now = new Date('2026-12-02T12:00:00Z');
  const texts: string[] = [];
  // The baseline's copy of every stored signature: bins and set sizes, flat.
  const stored = new Uint16Array(STORED * BINS);
  const sizes = new Int32Array(STORED);
  log(`storing ${STORED} signatures`);
  let buildMs = 0;
  for (let i = 1; i <= STORED; i++) {
    const t = text(120 + Math.floor(rnd() * 300));
    const t0 = performance.now();
    const sig = signatureOf(t)!;
    index.add({ articleId: i, storyId: i, publishedAt: new Date(now.getTime() - Math.floor(rnd() * WINDOW_MS)), signature: sig });
    buildMs += performance.now() - t0;
    stored.set(sig.bins, (i - 1) * BINS);
    sizes[i - 1] = sig.shingles;
    if (i % 97 === 0 && texts.length < LOOKUPS) texts.push(t);
  }
  // New articles: one in five a trimmed copy of a stored one, the rest new stories.
  const fresh = Array.from({ length: LOOKUPS }, (_, i) => (i % 5 === 0 ? texts[i % texts.length]!.split(' ').slice(0, 150).join(' ') : text(120 + Math.floor(rnd() * 300))));
  log(`looking up ${LOOKUPS} new articles`);
  let joined = 0;
  let candidates = 0;
  const t1 = performance.now();
  for (const t of fresh) {
    const sig = signatureOf(t)!;
    if (index.best(sig, THRESHOLD, now, WINDOW_MS)) joined++;
  }
  const lookupS = (performance.now() - t1) / 1000;
  for (const t of fresh.slice(0, 1000)) candidates += index.candidates(signatureOf(t)!, now, WINDOW_MS).length;
  // Baseline: the same question answered by comparing with every stored signature.
  log(`scanning all ${STORED} signatures for ${SCAN_SAMPLE} articles (baseline)`);
  const t2 = performance.now();
  let scanJoined = 0;
  for (const t of fresh.slice(0, SCAN_SAMPLE)) {
    const sig = signatureOf(t)!;
    let best = 0;
    for (let i = 0; i < STORED; i++) best = Math.max(best, containment(jaccard(sig.bins, 0, stored, i * BINS), sig.shingles, sizes[i]!));
    if (best >= THRESHOLD) scanJoined++;
  }
  const scanS = (performance.now() - t2) / 1000;
  const perS = LOOKUPS / lookupS;
  const scanPerS = SCAN_SAMPLE / scanS;
  return {
    stored_signatures: STORED,
    articles_per_s: Math.round(perS),
    scan_articles_per_s: round(scanPerS, 2),
    scan_articles_sampled: SCAN_SAMPLE,
    ratio: round(perS / scanPerS),
    joined_share: round(joined / LOOKUPS, 3),
    scan_joined_share: round(scanJoined / SCAN_SAMPLE, 3),
    mean_candidates_per_lookup: round(candidates / 1000, 2),
    index_bytes_per_signature: Math.round(index.bytes() / STORED),
    build_s: round(buildMs / 1000, 2),
  };
}

// ------------------------------------------------------------------ 3. cost in the ingest

const nullTransport: MailTransport = { kind: 'null', send: async () => ({ messageId: '', response: '250 ok' }), close: async () => {} } as unknown as MailTransport;

async function ingestCost() {
  const db = await createBenchDatabase('ta_bench_dedupe', 4);
  try {
    const now = new Date('2026-12-02T12:00:00Z');
    const withStories = await benchContext({ url: db.url, database: db.handle, transport: nullTransport, now });
    const without = await benchContext({ url: db.url, database: { ...db.handle, close: async () => {} }, transport: nullTransport, now, env: { STORIES_ENABLED: 'false' } });
    for (let i = 0; i < 100; i++) await withStories.ctx.services.topics.create({ slug: `t${i}`, name: `Topic ${i}`, query: word() }, 'bench');
    await withStories.ctx.matcher.start();
    await without.ctx.matcher.start();
    let n = 0;
    const article = () => ({ url: `https://bench.example/a/${++n}`, title: text(10), body: text(200 + Math.floor(rnd() * 300)), publishedAt: now });
    const times = { with: 0, without: 0 };
    // Warm-up, then alternate so drift in the machine's speed falls on both alike.
    for (let i = 0; i < 20; i++) await withStories.ctx.services.articles.ingest(article());
    const sides = [['with', withStories], ['without', without]] as const;
    for (let round = 0; round < 20; round++) {
      // Which side goes first flips every round: neither gets the warmer caches throughout.
      for (const [side, c] of round % 2 === 0 ? sides : [...sides].reverse()) {
        const t = performance.now();
        for (let i = 0; i < INGEST / 20; i++) await c.ctx.services.articles.ingest(article());
        times[side] += performance.now() - t;
      }
    }
    await without.ctx.matcher.stop();
    await withStories.ctx.matcher.stop();
    const perWith = INGEST / (times.with / 1000);
    const perWithout = INGEST / (times.without / 1000);
    return {
      ingest_articles_per_s: round(perWith),
      ingest_without_stories_articles_per_s: round(perWithout),
      added_ms_per_article: round((times.with - times.without) / INGEST, 3),
      ratio: round(perWith / perWithout, 3),
      engine: 'postgres',
      articles: INGEST,
    };
  } finally {
    await db.drop();
  }
}

async function main(): Promise<void> {
  const q = quality();
  log(`quality: precision ${q.precision}, recall ${q.recall} at threshold ${q.threshold}`);
  const s = speed();
  log(`speed: ${s.articles_per_s} articles/s against ${s.stored_signatures} stored`);
  const cost = await ingestCost();
  process.stdout.write(`${JSON.stringify({ bench: 'dedupe', part: 'quality', quick: QUICK, ...q })}\n`);
  // The headline figures together on one line, as the other benchmarks print theirs.
  process.stdout.write(`${JSON.stringify({ bench: 'dedupe', part: 'lookup', quick: QUICK, threshold: THRESHOLD, precision: q.precision, recall: q.recall, ...s })}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'dedupe', part: 'ingest', quick: QUICK, ...cost })}\n`);
}

await main();
