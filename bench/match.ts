/**
 * Matching benchmark: percolator (TopicIndex) vs a scan of every compiled topic vs PostgreSQL's
 * per-topic `tsquery @@ tsvector`.
 *
 *   npx tsx bench/match.ts [--quick]
 *
 * Synthetic, seeded data: a Zipf-distributed vocabulary of 200k pronounceable pseudo-words (with
 * English-like suffixes, so stemming does real work), articles of ~600 words (about a third of
 * them stop words), tags, sections and languages; topics of 1–3 ANDed terms with some OR groups,
 * phrases, negations and fields. Progress goes to stderr; the last lines of stdout are one JSON
 * object per topic count.
 */
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import pg from 'pg';
import {
  ENGLISH_STOP_WORDS,
  frequencyKeys,
  parseQuery,
  prepareArticle,
  searchText,
  TopicIndex,
  type ArticleInput,
  type PreparedArticle,
  type QueryNode,
} from '../src/matching/index.js';

const QUICK = process.argv.includes('--quick');
const argNum = (name: string): number | undefined => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : undefined;
};
const VOCAB = QUICK ? 50_000 : 200_000;
const N_ARTICLES = argNum('articles') ?? (QUICK ? 1_000 : 10_000);
const TOPIC_COUNTS = argNum('topics') !== undefined ? [argNum('topics') as number] : QUICK ? [20_000] : [100_000, 1_000_000];
const PG_TOPICS = QUICK ? 20_000 : 100_000;
const PG_ARTICLES = QUICK ? 20 : 50;
const DF_SAMPLE = Math.min(N_ARTICLES, QUICK ? 500 : 2_000);
const WORDS_PER_ARTICLE = 600;

const log = (msg: string): void => {
  process.stderr.write(`[bench:match] ${msg}\n`);
};

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heap = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

// ------------------------------------------------------------------ seeded random

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
let rnd = mulberry32(42);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];

/** Zipf(s) over ranks 0..n-1 by inverse CDF (binary search). */
function zipf(n: number, s: number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / Math.pow(i + 1, s);
    cdf[i] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  return () => {
    const u = rnd();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

// ------------------------------------------------------------------ vocabulary

const STOP = ['the', 'of', 'and', 'to', 'a', 'in', 'that', 'is', 'for', 'on', 'with', 'as', 'was', 'by', 'at', 'it', 'from', 'be', 'has', 'its'];
const ONSETS = ['b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'br', 'cr', 'dr', 'gr', 'pl', 'st', 'tr', 'sh', 'ch', 'th', ''];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'io', 'ou'];
const CODAS = ['', '', '', 'n', 'r', 's', 'l', 'm', 'nd', 'st', 'rt', 'ck'];
const SUFFIXES: [string, number][] = [
  ['s', 0.18],
  ['ing', 0.07],
  ['ed', 0.07],
  ['ation', 0.03],
  ['ly', 0.03],
  ['ness', 0.02],
  ['er', 0.04],
];

function makeVocab(n: number): string[] {
  const seen = new Set<string>([...STOP, ...ENGLISH_STOP_WORDS]);
  const out: string[] = [];
  while (out.length < n) {
    const syl = 1 + Math.floor(rnd() * 3) + (rnd() < 0.3 ? 1 : 0);
    let w = '';
    for (let i = 0; i < syl; i++) w += pick(ONSETS) + pick(VOWELS) + (i === syl - 1 || rnd() < 0.3 ? pick(CODAS) : '');
    const r = rnd();
    let acc = 0;
    for (const [suf, p] of SUFFIXES) {
      acc += p;
      if (r < acc) {
        w += suf;
        break;
      }
    }
    if (w.length < 3 || seen.has(w)) continue;
    seen.add(w);
    out.push(w);
  }
  return out;
}

// ------------------------------------------------------------------ data

log(`generating vocabulary of ${VOCAB} words`);
const vocab = makeVocab(VOCAB);
const wordRank = zipf(VOCAB, 1.0);
const TAGS = Array.from({ length: 5000 }, (_, i) => `${vocab[(i * 37) % VOCAB]}-${i}`);
const tagRank = zipf(TAGS.length, 1.0);
const SECTIONS = Array.from({ length: 30 }, (_, i) => `section${i}`);
const sectionRank = zipf(SECTIONS.length, 1.0);
const cap = (w: string): string => (rnd() < 0.15 ? w[0].toUpperCase() + w.slice(1) : w);

function makeText(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    parts.push(rnd() < 0.33 ? pick(STOP) : cap(vocab[wordRank()]));
    if (rnd() < 0.07) parts[parts.length - 1] += rnd() < 0.7 ? ',' : '.';
  }
  return parts.join(' ');
}

function makeArticle(): ArticleInput {
  const tags = new Set<string>();
  const nt = 2 + Math.floor(rnd() * 4);
  while (tags.size < nt) tags.add(TAGS[tagRank()]);
  const r = rnd();
  return {
    title: makeText(10),
    summary: makeText(30),
    body: makeText(WORDS_PER_ARTICLE - 40),
    tags: [...tags],
    section: SECTIONS[sectionRank()],
    language: r < 0.85 ? 'en' : r < 0.95 ? 'de' : 'fr',
  };
}

log(`generating ${N_ARTICLES} articles of ~${WORDS_PER_ARTICLE} words`);
const articles: ArticleInput[] = Array.from({ length: N_ARTICLES }, makeArticle);

// topic words skip the 2000 most frequent words (nobody follows "said" or "year"):
// half Zipf-distributed above rank 2000, half uniform over the long tail (names, places, firms)
function topicWord(): string {
  let r: number;
  if (rnd() < 0.5) {
    r = wordRank();
    while (r < 2000) r = wordRank();
  } else r = 2000 + Math.floor(rnd() * (VOCAB - 2000));
  return cap(vocab[r]);
}

function makeTopic(): string {
  const r = rnd();
  const parts: string[] = [];
  if (r < 0.35) parts.push(topicWord());
  else if (r < 0.68) parts.push(topicWord(), topicWord());
  else if (r < 0.8) parts.push(topicWord(), topicWord(), topicWord());
  else if (r < 0.88) {
    const alts = Array.from({ length: 2 + Math.floor(rnd() * 2) }, topicWord);
    parts.push(`(${alts.join(rnd() < 0.5 ? ' OR ' : ' | ')})`);
    if (rnd() < 0.5) parts.push(topicWord());
  } else if (r < 0.92) parts.push(`"${topicWord()} ${topicWord()}"`);
  else if (r < 0.96) {
    parts.push(`tag:${TAGS[tagRank()]}`);
    if (rnd() < 0.5) parts.push(topicWord());
  } else parts.push(`title:${topicWord()}`, topicWord());
  if (rnd() < 0.04) parts.push(`section:${SECTIONS[sectionRank()]}`);
  if (rnd() < 0.1) parts.push(rnd() < 0.8 ? `-${topicWord()}` : `NOT "${topicWord()} ${topicWord()}"`);
  if (rnd() < 0.3) return parts.join(' AND ');
  return parts.join(' ');
}

// ------------------------------------------------------------------ document frequencies

log(`document frequencies from ${DF_SAMPLE} articles`);
const df = new Map<string, number>();
const inc = (k: string): void => {
  df.set(k, (df.get(k) ?? 0) + 1);
};
for (let i = 0; i < DF_SAMPLE; i++) {
  for (const k of frequencyKeys(prepareArticle(articles[i]))) inc(k);
}

// ------------------------------------------------------------------ PostgreSQL baseline

const lex = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const fieldLexeme = (kind: string, v: string): string => `zz${kind}zz${v.replace(/[^a-z0-9]/g, '')}`;

/** Full tsquery of a topic over our stems (fields become special lexemes). */
function toTsQueryFull(n: QueryNode): string {
  switch (n.type) {
    case 'term':
      return lex(n.stem);
    case 'phrase': {
      let s = lex(n.stems[0]);
      for (let i = 1; i < n.stems.length; i++) s += ` <${n.offsets[i] - n.offsets[i - 1]}> ${lex(n.stems[i])}`;
      return `(${s})`;
    }
    case 'tag':
    case 'section':
    case 'lang':
      return lex(fieldLexeme(n.type, n.value));
    case 'and':
      return `(${n.children.map(toTsQueryFull).join(' & ')})`;
    case 'or':
      return `(${n.children.map(toTsQueryFull).join(' | ')})`;
    case 'not':
      return `!${toTsQueryFull(n.child)}`;
  }
}

function pgDocument(a: PreparedArticle): string {
  const extra = [...a.tags].map((t) => fieldLexeme('tag', t));
  if (a.section) extra.push(fieldLexeme('section', a.section));
  extra.push(fieldLexeme('lang', a.language));
  return `${searchText(a)} ${extra.join(' ')}`;
}

interface PgResult {
  pg_articles_per_s: number | null;
  pg_articles_sampled: number | null;
  pg_mean_matches_per_article: number | null;
  /** The literal per-topic form: each topic's query text parsed by to_tsquery for every article. */
  pg_text_articles_per_s?: number | null;
  pg_text_articles_sampled?: number | null;
  pg_error?: string;
}

async function pgBaseline(topics: { id: number; query: string }[]): Promise<PgResult> {
  const url = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('CREATE TEMP TABLE bench_topics (id int PRIMARY KEY, q tsquery NOT NULL, qtext text NOT NULL)');
    log(`pg: loading ${topics.length} topic tsqueries`);
    const B = 10_000;
    for (let i = 0; i < topics.length; i += B) {
      const batch = topics.slice(i, i + B);
      await client.query(
        "INSERT INTO bench_topics SELECT id, to_tsquery('simple', q), q FROM unnest($1::int[], $2::text[]) AS t(id, q)",
        [batch.map((t) => t.id), batch.map((t) => toTsQueryFull(parseQuery(t.query)))],
      );
    }
    await client.query('ANALYZE bench_topics');
    const docs = articles.slice(0, PG_ARTICLES).map((a) => pgDocument(prepareArticle(a)));
    await client.query("SELECT count(*) FROM bench_topics WHERE q @@ to_tsvector('simple', $1)", [docs[0]]); // warm-up
    let matches = 0;
    const t0 = performance.now();
    for (const d of docs) {
      const r = await client.query("SELECT id FROM bench_topics WHERE q @@ to_tsvector('simple', $1)", [d]);
      matches += r.rowCount ?? 0;
    }
    const s = (performance.now() - t0) / 1000;
    log(`pg: ${docs.length} articles in ${s.toFixed(2)} s`);
    // Also the form the issue names literally, per topic `to_tsquery(text) @@ to_tsvector(doc)`:
    // the tsquery is parsed again for every topic and article (ten articles: ~0.16 s each at 100k
    // topics; fewer made the rate swing by a fifth between runs).
    const textDocs = docs.slice(0, Math.max(2, Math.min(10, docs.length)));
    const t1 = performance.now();
    for (const d of textDocs) await client.query("SELECT id FROM bench_topics WHERE to_tsquery('simple', qtext) @@ to_tsvector('simple', $1)", [d]);
    const s1 = (performance.now() - t1) / 1000;
    log(`pg (to_tsquery per topic): ${textDocs.length} articles in ${s1.toFixed(2)} s`);
    return {
      pg_articles_per_s: round(docs.length / s),
      pg_articles_sampled: docs.length,
      pg_mean_matches_per_article: round(matches / docs.length),
      pg_text_articles_per_s: round(textDocs.length / s1),
      pg_text_articles_sampled: textDocs.length,
    };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    log(`pg baseline skipped: ${reason}`);
    return { pg_articles_per_s: null, pg_articles_sampled: null, pg_mean_matches_per_article: null, pg_error: `PostgreSQL unavailable: ${reason}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

// ------------------------------------------------------------------ run

/**
 * Items per second of `pass` (which handles `n` items), repeating passes for at least `minMs`.
 * Wall clock, plus the same per second of process CPU time in `lastCpuRate` (robust when other
 * processes compete for the cores; includes V8's GC helper threads).
 */
let lastCpuRate = 0;
function rate(n: number, pass: () => void, minMs = 1000): number {
  let items = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let elapsed = 0;
  do {
    pass();
    items += n;
    elapsed = performance.now() - t0;
  } while (elapsed < minMs);
  const c = process.cpuUsage(c0);
  lastCpuRate = items / ((c.user + c.system) / 1e6);
  return items / (elapsed / 1000);
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const results: Record<string, unknown>[] = [];

for (const nTopics of TOPIC_COUNTS) {
  rnd = mulberry32(1000 + nTopics);
  log(`generating ${nTopics} topics`);
  const topics = Array.from({ length: nTopics }, (_, i) => ({ id: i + 1, query: makeTopic() }));

  const before = heap();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let idx: TopicIndex | null = TopicIndex.build(topics, { termFrequencies: df });
  const buildMs = performance.now() - t0;
  const c1 = process.cpuUsage(c0);
  const buildCpuMs = (c1.user + c1.system) / 1000; // process CPU time (includes GC helper threads)
  const after = heap();
  const stats = idx.stats();
  log(`built in ${buildMs.toFixed(0)} ms: ${stats.entries} distinct queries, ${stats.terms} terms, ${stats.postings} postings`);

  // warm-up (JIT, stem cache)
  for (let i = 0; i < Math.min(500, N_ARTICLES); i++) idx.match(prepareArticle(articles[i]));

  // end to end: prepare (tokenise, fold, stem) + match, full passes over the articles
  let matches = 0;
  const ix = idx;
  const statsBefore = ix.stats();
  for (const a of articles) matches += ix.match(prepareArticle(a)).length;
  const st = ix.stats();
  const candidatesPerArticle = (st.candidatesVerified - statsBefore.candidatesVerified) / N_ARTICLES;
  const articlesPerS = rate(N_ARTICLES, () => {
    for (let i = 0; i < N_ARTICLES; i++) ix.match(prepareArticle(articles[i]));
  });
  const articlesPerCpuS = lastCpuRate;
  log(`index: ${articlesPerS.toFixed(0)} articles/s end to end, ${(matches / N_ARTICLES).toFixed(1)} matches/article`);
  const prepareOnlyPerS = rate(N_ARTICLES, () => {
    for (const a of articles) prepareArticle(a);
  });
  const prepareOnlyPerCpuS = lastCpuRate;
  // the parts separately, on a retained sample of prepared articles
  const prepared = articles.slice(0, Math.min(N_ARTICLES, 2000)).map(prepareArticle);
  const matchOnlyPerS = rate(prepared.length, () => {
    for (const p of prepared) ix.match(p);
  });
  const matchOnlyPerCpuS = lastCpuRate;

  // scan baseline on a sample, same prepare step, same interpreter; checks equality too
  const scanN = Math.max(20, Math.min(N_ARTICLES, Math.round((QUICK ? 4e6 : 4e7) / nTopics)));
  for (let i = 0; i < 5; i++) ix.matchByScan(prepareArticle(articles[i]));
  const scanPerS = rate(scanN, () => {
    for (let i = 0; i < scanN; i++) ix.matchByScan(prepareArticle(articles[i]));
  });
  const scanPerCpuS = lastCpuRate;
  const scanOnlyPerS = rate(scanN, () => {
    for (let i = 0; i < scanN; i++) ix.matchByScan(prepared[i]);
  });
  const scanOnlyPerCpuS = lastCpuRate;
  for (let i = 0; i < scanN; i++) {
    // as sets: match() gives no order
    const a = ix.matchByScan(prepared[i]).sort((x, y) => x - y).join(',');
    const b = ix.match(prepared[i]).sort((x, y) => x - y).join(',');
    if (a !== b) throw new Error(`index and scan disagree on article ${i}`);
  }
  log(`scan: ${scanN} articles sampled, ${scanPerS.toFixed(1)}/s`);

  idx = null;

  let pgr: PgResult = { pg_articles_per_s: null, pg_articles_sampled: null, pg_mean_matches_per_article: null };
  if (nTopics === PG_TOPICS) pgr = await pgBaseline(topics);
  else pgr.pg_error = `PostgreSQL baseline measured at ${PG_TOPICS} topics only`;

  results.push({
    bench: 'match',
    quick: QUICK,
    topics: nTopics,
    articles: N_ARTICLES,
    words_per_article: WORDS_PER_ARTICLE,
    articles_per_s: round(articlesPerS),
    scan_articles_per_s: round(scanPerS),
    scan_articles_sampled: scanN,
    ratio: round(articlesPerS / scanPerS, 1),
    pg_articles_per_s: pgr.pg_articles_per_s,
    pg_articles_sampled: pgr.pg_articles_sampled,
    pg_ratio: pgr.pg_articles_per_s ? round(articlesPerS / pgr.pg_articles_per_s, 1) : null,
    pg_text_articles_per_s: pgr.pg_text_articles_per_s ?? null,
    pg_text_articles_sampled: pgr.pg_text_articles_sampled ?? null,
    pg_text_ratio: pgr.pg_text_articles_per_s ? round(articlesPerS / pgr.pg_text_articles_per_s, 1) : null,
    ...(pgr.pg_error ? { pg_note: pgr.pg_error } : {}),
    match_only_articles_per_s: round(matchOnlyPerS),
    scan_only_articles_per_s: round(scanOnlyPerS),
    match_only_ratio: round(matchOnlyPerS / scanOnlyPerS, 1),
    prepare_only_articles_per_s: round(prepareOnlyPerS),
    // the same rates per second of process CPU time (the machine may be shared)
    cpu_articles_per_s: round(articlesPerCpuS),
    cpu_scan_articles_per_s: round(scanPerCpuS),
    cpu_ratio: round(articlesPerCpuS / scanPerCpuS, 1),
    cpu_match_only_articles_per_s: round(matchOnlyPerCpuS),
    cpu_scan_only_articles_per_s: round(scanOnlyPerCpuS),
    cpu_prepare_only_articles_per_s: round(prepareOnlyPerCpuS),
    bytes_per_topic: round((after - before) / nTopics, 1),
    index_approx_bytes_per_topic: round(stats.approxBytes / nTopics, 1),
    distinct_queries: stats.entries,
    build_ms: round(buildMs, 0),
    build_cpu_ms: round(buildCpuMs, 0),
    load_average_1m: round(os.loadavg()[0]),
    mean_matches_per_article: round(matches / N_ARTICLES),
    mean_candidates_per_article: round(candidatesPerArticle),
    pg_mean_matches_per_article: pgr.pg_mean_matches_per_article,
  });
}

for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
