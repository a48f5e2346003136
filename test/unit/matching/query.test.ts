import { describe, expect, it } from 'vitest';
import { QueryError, type QueryNode } from '../../../src/matching/query.js';
import { normalizeQuery } from '../../../src/matching/query-canonical.js';
import { parseQuery } from '../../../src/matching/query-parse.js';
import { toTsQueryPrefilter } from '../../../src/matching/pg.js';

function err(q: string, opts?: Parameters<typeof parseQuery>[1]): QueryError {
  try {
    parseQuery(q, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(QueryError);
    return e as QueryError;
  }
  throw new Error(`expected ${JSON.stringify(q)} to be refused`);
}

const norm = (q: string): string => normalizeQuery(parseQuery(q));

describe('parseQuery errors', () => {
  it.each([
    ['nato "arms deal', 'unclosed_quote', 6, 'unclosed quote at column 6'],
    ['Japan AND "NATO', 'unclosed_quote', 11, 'unclosed quote at column 11'],
    ['(japan nato', 'unbalanced_parentheses', 1, 'unclosed parenthesis at column 1'],
    ['japan (nato OR (otan)', 'unbalanced_parentheses', 7, 'unclosed parenthesis at column 7'],
    ['japan nato)', 'unbalanced_parentheses', 11, 'unexpected ")" at column 11'],
    ['japan ()', 'empty_group', 7, 'empty parentheses at column 7'],
    ['japan OR', 'dangling_or', 7, 'OR at column 7 needs a term on both sides'],
    ['OR japan', 'dangling_or', 1, 'OR at column 1 needs a term on both sides'],
    ['japan | | nato', 'dangling_or', 7, 'OR at column 7 needs a term on both sides'],
    ['(japan OR) nato', 'dangling_or', 8, 'OR at column 8 needs a term on both sides'],
    ['japan NOT', 'dangling_not', 7, 'NOT at column 7 must be followed by a term'],
    ['japan -', 'dangling_not', 7, '"-" at column 7 must be directly followed by the excluded term (e.g. -sports)'],
    ['japan - russia', 'dangling_not', 7, '"-" at column 7 must be directly followed by the excluded term (e.g. -sports)'],
    ['japan NOT OR nato', 'dangling_not', 7, 'NOT at column 7 must be followed by a term'],
    ['japan AND', 'dangling_and', 7, 'AND at column 7 needs a term on both sides'],
    ['AND japan', 'dangling_and', 1, 'AND at column 1 needs a term on both sides'],
    ['', 'empty_query', 1, 'the query is empty'],
    ['   ', 'empty_query', 1, 'the query is empty'],
    ['-sports', 'only_negations', 1, 'a query needs at least one term that is not excluded'],
    ['NOT sports -russia', 'only_negations', 1, 'a query needs at least one term that is not excluded'],
    ['japan OR -russia', 'only_negations', 1, 'a query needs at least one term that is not excluded'],
    ['the of and', 'only_stop_words', 1, 'the query has only stop words (like "the", "of"); add a more specific term'],
    ['"to be" OR the', 'only_stop_words', 1, 'the query has only stop words (like "the", "of"); add a more specific term'],
    ['japan ""', 'empty_phrase', 7, 'empty phrase at column 7'],
    ['colour:red japan', 'unknown_field', 1, 'unknown field "colour:" at column 1 (use tag:, section:, lang: or title:)'],
    ['japan tag:', 'empty_field', 7, '"tag:" at column 7 needs a value right after the colon'],
    ['japan lang:english!', 'invalid_field_value', 7, '"english!" at column 7 is not a language code (e.g. lang:en)'],
  ])('%j → %s at column %i', (q, code, column, message) => {
    const e = err(q);
    expect(e.code).toBe(code);
    expect(e.column).toBe(column);
    expect(e.message).toBe(message);
  });

  it('refuses more terms than maxTerms, pointing at the first one too many', () => {
    const q = Array.from({ length: 33 }, (_, i) => `w${i}x`).join(' ');
    const e = err(q);
    expect(e.code).toBe('too_many_terms');
    expect(e.column).toBe(q.indexOf('w32x') + 1);
    expect(err('japan nato ukraine', { maxTerms: 2 }).column).toBe(12);
    expect(() => parseQuery(Array.from({ length: 32 }, (_, i) => `w${i}x`).join(' '))).not.toThrow();
    // stop words do not count
    expect(() => parseQuery('the japan of nato', { maxTerms: 2 })).not.toThrow();
  });

  it('QueryError is an Error with code, message and column', () => {
    const e = err('"abc');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('QueryError');
  });
});

describe('parseQuery trees', () => {
  it('OR binds tighter than AND (Google-style): a b OR c = a AND (b OR c)', () => {
    expect(norm('japan nato OR otan')).toBe('((nato|otan) japan)');
    expect(norm('japan AND nato OR otan')).toBe('((nato|otan) japan)');
    expect(norm('nato OR otan japan')).toBe('((nato|otan) japan)');
    expect(norm('(japan nato) OR otan')).toBe('((japan nato)|otan)');
    expect(norm('japan nato | otan | alliance')).toBe('((allianc|nato|otan) japan)');
  });

  it('NOT binds tightest', () => {
    expect(() => parseQuery('-russia OR japan')).toThrow(QueryError); // (NOT russia) OR japan: no anchor
    expect(norm('japan -russia OR ukraine')).toBe('((-russia|ukrain) japan)');
  });

  it('terms are case-insensitive, accent-folded and stemmed', () => {
    const n = parseQuery('Sanctions') as QueryNode;
    expect(n).toMatchObject({ type: 'term', field: 'text', word: 'sanctions', stem: 'sanction' });
    expect(norm('CAFÉ')).toBe(norm('cafe'));
    expect(norm('sanctioned')).toBe(norm('sanctions'));
  });

  it('phrases keep stop-word gaps; hyphenated words are phrases', () => {
    expect(parseQuery('"Bank of England"')).toMatchObject({
      type: 'phrase',
      field: 'text',
      words: ['bank', 'of', 'england'],
      stems: ['bank', 'england'],
      offsets: [0, 2],
    });
    expect(norm('"Bank of England"')).toBe('"bank * england"');
    expect(norm('Russia-Japan')).toBe('"russia japan"');
    expect(norm('"the japan"')).toBe('japan');
  });

  it('fields', () => {
    expect(parseQuery('tag:"South Korea"')).toEqual({ type: 'tag', value: 'south-korea' });
    expect(parseQuery('tag:south_korea')).toEqual({ type: 'tag', value: 'south-korea' });
    expect(parseQuery('Section:World')).toEqual({ type: 'section', value: 'world' });
    expect(parseQuery('lang:de-AT')).toEqual({ type: 'lang', value: 'de' });
    expect(norm('title:NATO')).toBe('title:nato');
    expect(norm('title:"arms deal"')).toBe('title:"arm deal"');
    expect(norm('japan -tag:sports -"world cup" -(football OR rugby)')).toBe(
      '(-"world cup" -(footbal|rugbi) -tag:sports japan)',
    );
  });

  it('stop words are dropped as if not written', () => {
    expect(norm('the japan')).toBe('japan');
    expect(norm('the OR japan')).toBe('japan');
    expect(norm('japan -the')).toBe('japan');
    expect(norm('japan and nato')).toBe('(japan nato)');
  });

  it('stems with the language of a top-level lang: or the option', () => {
    expect(norm('lang:de Häuser')).toBe(normalizeQuery(parseQuery('Häuser lang:de', { language: 'de' })));
    expect(norm('lang:de Häuser')).not.toBe('(haus lang:de)'.replace('haus', 'hauser'));
  });
});

describe('normalizeQuery', () => {
  it.each([
    ['Japan nato', 'NATO AND japan'],
    ['japan (nato OR otan)', '(otan | NATO) Japan'],
    ['a1 (b1 c1)', 'c1 b1 a1'],
    ['x1 OR (y1 OR z1)', 'z1 | y1 | x1'],
    ['japan japan nato', 'nato japan'],
    ['japan --russia', 'japan russia'],
    ['japan NOT NOT russia', 'russia japan'],
    ['(japan)', 'japan'],
    ['sanctions', 'sanctioned'],
  ])('%j ≡ %j', (a, b) => {
    expect(norm(a)).toBe(norm(b));
  });

  it.each([
    ['japan nato', 'japan OR nato'],
    ['japan -nato', 'japan nato'],
    ['"japan nato"', 'japan nato'],
    ['title:japan', 'japan'],
    ['tag:japan', 'japan'],
    ['"bank of england"', '"bank england"'],
  ])('%j ≢ %j', (a, b) => {
    expect(norm(a)).not.toBe(norm(b));
  });
});

describe('toTsQueryPrefilter', () => {
  const pf = (q: string): string | null => toTsQueryPrefilter(parseQuery(q));
  it('derives a superset filter or null', () => {
    expect(pf('Japan AND NATO -sports')).toBe("('japan' & 'nato')");
    expect(pf('"arms deal" OR sanctions')).toBe("(('arm' & 'deal') | 'sanction')");
    expect(pf('tag:ukraine')).toBeNull();
    expect(pf('tag:ukraine japan')).toBe("'japan'");
    expect(pf('tag:ukraine OR japan')).toBeNull();
    expect(pf('title:japan')).toBe("'japan'");
  });
});
