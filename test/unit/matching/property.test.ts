/**
 * Property: TopicIndex.match returns exactly the topics the reference evaluator accepts, for
 * random queries (generated as trees over a small vocabulary, printed, parsed back) and random
 * articles over the same vocabulary — after bulk build, upserts, removals and re-anchoring.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  evaluate,
  parseQuery,
  prepareArticle,
  QueryError,
  tokenize,
  TopicIndex,
  type PreparedArticle,
  type QueryNode,
} from '../../../src/matching/index.js';

// sanctions/sanctioned share a stem; café/cafe fold together; the/of are stop words
const WORDS = ['japan', 'Japanese', 'NATO', 'sanctions', 'sanctioned', 'russia', 'Ukraine', 'tokyo', 'café', 'cafe', 'arms', 'deal', 'the', 'of', 'war'];
const TAGS = ['ukraine', 'south-korea', 'defense'];
const SECTIONS = ['world', 'sports'];
const LANGS = ['en', 'de'];

type G =
  | { k: 'word'; w: string; title: boolean }
  | { k: 'phrase'; ws: string[]; title: boolean }
  | { k: 'tag' | 'section' | 'lang'; v: string }
  | { k: 'and' | 'or'; kids: G[]; kw: boolean }
  | { k: 'not'; kid: G; kw: boolean };

const word = fc.constantFrom(...WORDS);
const leaf: fc.Arbitrary<G> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('word' as const), w: word, title: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('phrase' as const), ws: fc.array(word, { minLength: 2, maxLength: 3 }), title: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('tag' as const), v: fc.constantFrom(...TAGS) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('section' as const), v: fc.constantFrom(...SECTIONS) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('lang' as const), v: fc.constantFrom(...LANGS) }) },
);

const tree = fc.letrec<{ node: G }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ k: fc.constantFrom('and' as const, 'or' as const), kids: fc.array(tie('node'), { minLength: 2, maxLength: 3 }), kw: fc.boolean() }),
    fc.record({ k: fc.constant('not' as const), kid: tie('node'), kw: fc.boolean() }),
  ),
})).node;

function print(g: G): string {
  switch (g.k) {
    case 'word':
      return (g.title ? 'title:' : '') + g.w;
    case 'phrase':
      return `${g.title ? 'title:' : ''}"${g.ws.join(' ')}"`;
    case 'tag':
    case 'section':
    case 'lang':
      return `${g.k}:${g.v}`;
    case 'and':
      return `(${g.kids.map(print).join(g.kw ? ' AND ' : ' ')})`;
    case 'or':
      return `(${g.kids.map(print).join(g.kw ? ' OR ' : ' | ')})`;
    case 'not':
      return (g.kw ? 'NOT ' : '-') + print(g.kid);
  }
}

const articleArb = fc.record({
  title: fc.array(word, { maxLength: 5 }).map((w) => w.join(' ')),
  summary: fc.option(fc.array(word, { maxLength: 6 }).map((w) => w.join(', ')), { nil: undefined }),
  body: fc.array(word, { maxLength: 25 }).map((w) => w.join(' ')),
  tags: fc.subarray(['Ukraine', 'South Korea', 'defense', 'other']),
  section: fc.option(fc.constantFrom('World', 'sports', 'business'), { nil: undefined }),
  language: fc.option(fc.constantFrom('en', 'de', 'en-US'), { nil: undefined }),
});

function parseOrSkip(q: string): QueryNode | null {
  try {
    return parseQuery(q);
  } catch (e) {
    if (e instanceof QueryError && (e.code === 'only_negations' || e.code === 'only_stop_words')) return null;
    throw new Error(`generated query ${JSON.stringify(q)} failed: ${String(e)}`);
  }
}

/** match() gives each id once, in no particular order. */
const sorted = (ids: number[]): number[] => [...ids].sort((x, y) => x - y);

let pairs = 0;

function check(idx: TopicIndex, topics: Map<number, QueryNode>, articles: PreparedArticle[]): void {
  for (const a of articles) {
    const expected: number[] = [];
    for (const [id, node] of topics) if (evaluate(node, a)) expected.push(id);
    expected.sort((x, y) => x - y);
    pairs += topics.size;
    expect(sorted(idx.match(a))).toEqual(expected);
  }
  expect(idx.size).toBe(topics.size);
}

describe('TopicIndex ≡ reference evaluator (property)', () => {
  it('matches exactly, including after removes, upserts and re-anchoring', () => {
    pairs = 0;
    fc.assert(
      fc.property(
        fc.array(tree, { minLength: 1, maxLength: 40 }),
        fc.array(articleArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(60), fc.option(tree, { nil: undefined })), { maxLength: 30 }),
        fc.boolean(),
        fc.array(fc.tuple(fc.constantFrom(...WORDS), fc.nat(50)), { maxLength: 6 }),
        (trees, arts, ops, eagerCompact, dfs) => {
          const articles = arts.map(prepareArticle);
          const topics = new Map<number, QueryNode>();
          const initial: { id: number; query: string }[] = [];
          trees.forEach((g, i) => {
            const q = print(g);
            const node = parseOrSkip(q);
            if (!node) return;
            // ids shared between duplicates of the same text exercise entry sharing
            const id = i * 3 + 1;
            topics.set(id, node);
            initial.push({ id, query: q });
            if (i % 4 === 0) {
              topics.set(id + 1, node);
              initial.push({ id: id + 1, query: q.toUpperCase() });
            }
          });
          // fix the expected nodes of upper-cased copies: parse exactly what was indexed
          for (const t of initial) topics.set(t.id, parseQuery(t.query));
          const opts = eagerCompact ? { compactMin: 0, compactFraction: 0.05 } : {};
          const idx = TopicIndex.build(initial, opts);
          check(idx, topics, articles);

          for (const [n, g] of ops) {
            const id = n * 2 + 1;
            if (g === undefined) {
              expect(idx.remove(id)).toBe(topics.has(id));
              topics.delete(id);
            } else {
              const q = print(g);
              const node = parseOrSkip(q);
              if (!node) {
                const before = idx.size;
                expect(() => idx.upsert(id, q)).toThrow(QueryError);
                expect(idx.size).toBe(before);
                continue;
              }
              idx.upsert(id, q);
              topics.set(id, node);
            }
          }
          check(idx, topics, articles);

          idx.setTermFrequencies(new Map(dfs.map(([w, f]) => [tokenize(w)[0] ?? w, f])));
          check(idx, topics, articles);
          for (const a of articles) expect(sorted(idx.matchByScan(a))).toEqual(sorted(idx.match(a)));
        },
      ),
      { numRuns: 5000, seed: 20260219 },
    );
    console.log(`property: ${pairs} (query, article) pairs checked`);
    expect(pairs).toBeGreaterThanOrEqual(10_000);
  }, 60_000);
});
