import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, normalizeQuery, parseQuery, prepareArticle, QueryError, TopicIndex, type ArticleInput } from '../../../src/matching/index.js';

/** match() gives each id once, in no particular order. */
const sorted = (ids: number[]): number[] => [...ids].sort((x, y) => x - y);

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/articles.json', import.meta.url), 'utf8'),
) as ArticleInput[];
const article = prepareArticle(fixture[0]);

describe('fixture article', () => {
  it.each([
    ['Japan AND NATO -sports', true],
    ['tag:ukraine', true],
    ['Japan -Russia', false],
    ['japan nato', true],
    ['title:"arms deal"', true],
    ['title:Zakharova', false],
    ['Zakharova', true],
    ['"Maria Zakharova"', true],
    ['"Zakharova Maria"', false],
    ['"legitimate battlefield targets"', true],
    ['section:world lang:en sanctioned OR warning', true],
    ['section:sports japan', false],
    ['lang:de japan', false],
    ['tag:defense -tag:sports', true],
    ['(russia OR moscow) -(football OR cricket)', true],
    ['"Japan NATO"', false],
  ])('%j → %s', (q, expected) => {
    const node = parseQuery(q);
    expect(evaluate(node, article)).toBe(expected);
    const idx = TopicIndex.build([{ id: 7, query: q }]);
    expect(sorted(idx.match(article))).toEqual(expected ? [7] : []);
  });
});

describe('TopicIndex', () => {
  it('shares one compiled entry between topics with equal normalised queries', () => {
    const idx = TopicIndex.build([
      { id: 1, query: 'Japan nato' },
      { id: 2, query: 'NATO AND japan' },
      { id: 3, query: 'Japan -Russia' },
    ]);
    expect(idx.size).toBe(3);
    expect(idx.stats().entries).toBe(2);
    expect(sorted(idx.match(article))).toEqual([1, 2]);
    idx.remove(1);
    expect(sorted(idx.match(article))).toEqual([2]);
    expect(idx.stats().entries).toBe(2);
    idx.remove(2);
    expect(idx.stats().entries).toBe(1);
    expect(sorted(idx.match(article))).toEqual([]);
  });

  it('upsert replaces, remove removes, invalid queries leave the index unchanged', () => {
    const idx = new TopicIndex();
    idx.upsert(10, 'tag:ukraine');
    idx.upsert(5, 'japan');
    expect(sorted(idx.match(article))).toEqual([5, 10]);
    idx.upsert(10, 'tag:brazil');
    expect(sorted(idx.match(article))).toEqual([5]);
    expect(() => idx.upsert(5, 'japan OR')).toThrow();
    expect(sorted(idx.match(article))).toEqual([5]);
    expect(idx.remove(5)).toBe(true);
    expect(idx.remove(5)).toBe(false);
    expect(sorted(idx.match(article))).toEqual([]);
    expect(idx.size).toBe(1);
    idx.upsert(2 ** 31 - 1, 'nato');
    idx.upsert(0, 'russia');
    expect(sorted(idx.match(article))).toEqual([0, 2 ** 31 - 1]);
    expect(() => idx.upsert(-1, 'nato')).toThrow(RangeError);
    expect(() => idx.upsert(2 ** 31, 'nato')).toThrow(RangeError);
    expect(() => idx.upsert(1.5, 'nato')).toThrow(RangeError);
  });

  it('anchors on the rarest term and still matches after re-anchoring', () => {
    const idx = TopicIndex.build(
      [
        { id: 1, query: 'japan zakharova' },
        { id: 2, query: 'tag:ukraine nato' },
        { id: 3, query: 'lang:en "arms deal"' },
      ],
      { compactMin: 0 },
    );
    expect(sorted(idx.match(article))).toEqual([1, 2, 3]);
    idx.setTermFrequencies(new Map([['japan', 1], ['zakharova', 1000], ['tag:ukraine', 5]]));
    expect(sorted(idx.match(article))).toEqual([1, 2, 3]);
    expect(sorted(idx.matchByScan(article))).toEqual([1, 2, 3]);
  });

  it('matches an article prepared before its words were used by any topic', () => {
    const a = prepareArticle({ title: 'Qwxzorbia declares independence', body: 'The qwxzorbian parliament voted.' });
    const idx = new TopicIndex();
    idx.upsert(1, 'Qwxzorbia');
    idx.upsert(2, '"qwxzorbian parliament"');
    idx.upsert(3, 'title:qwxzorbian');
    expect(sorted(idx.match(a))).toEqual([1, 2]);
    expect(evaluate(parseQuery('title:qwxzorbian'), a)).toBe(false);
  });

  it('keeps matching through many upserts and removals (overflow, compaction)', () => {
    const idx = new TopicIndex({ compactMin: 10, compactFraction: 0.01 });
    for (let i = 0; i < 500; i++) idx.upsert(i, i % 2 ? 'japan nato' : `japan w${i}x OR tag:ukraine`);
    for (let i = 0; i < 500; i += 3) idx.remove(i);
    const expected = [...Array(500).keys()].filter((i) => i % 3 !== 0);
    expect(sorted(idx.match(article))).toEqual(expected);
    expect(idx.stats().entries).toBe(1 + expected.filter((i) => i % 2 === 0).length);
  });

  it('build reports bad queries through onError', () => {
    const bad: number[] = [];
    const idx = TopicIndex.build(
      [
        { id: 1, query: 'japan' },
        { id: 2, query: '"oops' },
      ],
      { onError: (id) => bad.push(id) },
    );
    expect(bad).toEqual([2]);
    expect(idx.size).toBe(1);
  });

  it('compiles query strings on its fast path exactly as the parser does (same entries, same errors)', () => {
    const token = fc.constantFrom('japan', 'Japan', 'JAPAN', 'nato', 'sanctions', 'Sanctioned', 'the', 'The', 'of', 'and', 'And', 'AND', 'OR', 'NOT', 'or', 'not', 'x2', '2024', 'café', 'tag:ukraine', '-war', 'title:nato', '(japan', 'nato)', '"arms', 'deal"', '|', '');
    const query = fc.tuple(fc.array(token, { minLength: 1, maxLength: 6 }), fc.constantFrom(' ', '  ', '\t'), fc.boolean()).map(([ts, sep, pad]) => (pad ? ' ' : '') + ts.join(sep));
    const errorOf = (q: string): string | null => {
      try {
        parseQuery(q, { maxTerms: 3 });
        return null;
      } catch (e) {
        return e instanceof QueryError ? e.code : String(e);
      }
    };
    fc.assert(
      fc.property(query, query, (q1, q2) => {
        const errors: [number, string][] = [];
        const onError = (id: number, e: unknown): void => {
          errors.push([id, e instanceof QueryError ? e.code : String(e)]);
        };
        const e1 = errorOf(q1);
        const e2 = errorOf(q2);
        const topics: { id: number; query: string | ReturnType<typeof parseQuery> }[] = [
          { id: 1, query: q1 },
          { id: 2, query: q2 },
        ];
        if (e1 === null) topics.push({ id: 3, query: parseQuery(q1, { maxTerms: 3 }) });
        if (e2 === null) topics.push({ id: 4, query: parseQuery(q2, { maxTerms: 3 }) });
        const idx = TopicIndex.build(topics, { maxTerms: 3, onError });
        const expected: [number, string][] = [];
        if (e1 !== null) expected.push([1, e1]);
        if (e2 !== null) expected.push([2, e2]);
        expect(errors).toEqual(expected);
        const keys = new Set<string>();
        if (e1 === null) keys.add(normalizeQuery(parseQuery(q1, { maxTerms: 3 })));
        if (e2 === null) keys.add(normalizeQuery(parseQuery(q2, { maxTerms: 3 })));
        expect(idx.stats().entries).toBe(keys.size);
        // upsert takes the same path
        const up = new TopicIndex({ maxTerms: 3 });
        for (const t of topics) {
          try {
            up.upsert(t.id, t.query);
          } catch {
            // reported above
          }
        }
        expect(up.stats().entries).toBe(keys.size);
      }),
      { numRuns: 3000 },
    );
  });
});

