import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluate, parseQuery, prepareArticle, TopicIndex, type ArticleInput } from '../../../src/matching/index.js';

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
    expect(idx.match(article)).toEqual(expected ? [7] : []);
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
    expect(idx.match(article)).toEqual([1, 2]);
    idx.remove(1);
    expect(idx.match(article)).toEqual([2]);
    expect(idx.stats().entries).toBe(2);
    idx.remove(2);
    expect(idx.stats().entries).toBe(1);
    expect(idx.match(article)).toEqual([]);
  });

  it('upsert replaces, remove removes, invalid queries leave the index unchanged', () => {
    const idx = new TopicIndex();
    idx.upsert(10, 'tag:ukraine');
    idx.upsert(5, 'japan');
    expect(idx.match(article)).toEqual([5, 10]);
    idx.upsert(10, 'tag:brazil');
    expect(idx.match(article)).toEqual([5]);
    expect(() => idx.upsert(5, 'japan OR')).toThrow();
    expect(idx.match(article)).toEqual([5]);
    expect(idx.remove(5)).toBe(true);
    expect(idx.remove(5)).toBe(false);
    expect(idx.match(article)).toEqual([]);
    expect(idx.size).toBe(1);
    idx.upsert(2 ** 31 - 1, 'nato');
    idx.upsert(0, 'russia');
    expect(idx.match(article)).toEqual([0, 2 ** 31 - 1]);
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
    expect(idx.match(article)).toEqual([1, 2, 3]);
    idx.setTermFrequencies(new Map([['japan', 1], ['zakharova', 1000], ['tag:ukraine', 5]]));
    expect(idx.match(article)).toEqual([1, 2, 3]);
    expect(idx.matchByScan(article)).toEqual([1, 2, 3]);
  });

  it('matches an article prepared before its words were used by any topic', () => {
    const a = prepareArticle({ title: 'Qwxzorbia declares independence', body: 'The qwxzorbian parliament voted.' });
    const idx = new TopicIndex();
    idx.upsert(1, 'Qwxzorbia');
    idx.upsert(2, '"qwxzorbian parliament"');
    idx.upsert(3, 'title:qwxzorbian');
    expect(idx.match(a)).toEqual([1, 2]);
    expect(evaluate(parseQuery('title:qwxzorbian'), a)).toBe(false);
  });

  it('keeps matching through many upserts and removals (overflow, compaction)', () => {
    const idx = new TopicIndex({ compactMin: 10, compactFraction: 0.01 });
    for (let i = 0; i < 500; i++) idx.upsert(i, i % 2 ? 'japan nato' : `japan w${i}x OR tag:ukraine`);
    for (let i = 0; i < 500; i += 3) idx.remove(i);
    const expected = [...Array(500).keys()].filter((i) => i % 3 !== 0);
    expect(idx.match(article)).toEqual(expected);
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
});
