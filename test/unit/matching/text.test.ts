import { describe, expect, it } from 'vitest';
import { foldText, normalizeTag, prepareArticle, tokenize, searchText } from '../../../src/matching/text.js';

describe('text analysis', () => {
  it('foldText lower-cases, strips accents and punctuation', () => {
    expect(foldText('Café  Zürich! Straße, Øresund — Łódź')).toBe('cafe zurich strasse oresund lodz');
    expect(foldText('ＮＡＴＯ')).toBe('nato');
  });

  it('tokenize stems (Porter2 for English) and drops stop words', () => {
    expect(tokenize('The sanctions were sanctioned by Japan')).toEqual(['sanction', 'sanction', 'japan']);
    expect(tokenize('Die Häuser der Stadt', 'de')).toEqual(['die', 'haus', 'der', 'stadt']);
    expect(tokenize('les élections présidentielles', 'fr')).toEqual(['le', 'elect', 'presidentiel']);
    // no stemmer and no stop list for an unknown language: folded words
    expect(tokenize('The unknown language words', 'xx')).toEqual(['the', 'unknown', 'language', 'words']);
  });

  it('normalizeTag', () => {
    expect(normalizeTag('South Korea')).toBe('south-korea');
    expect(normalizeTag('south_korea')).toBe('south-korea');
    expect(normalizeTag('U.S. Politics')).toBe('us-politics');
    expect(normalizeTag('Économie')).toBe('economie');
  });

  it('prepareArticle keeps positions, a gap between fields and the title range', () => {
    const a = prepareArticle({ title: 'Bank of England', summary: 'rates', body: 'The bank rose', tags: ['UK Economy'], section: 'Business', language: 'en-GB' });
    expect(a.tokens).toEqual(['bank', null, 'england', null, 'rate', null, null, 'bank', 'rose']);
    expect(a.titleEnd).toBe(3);
    expect(a.tokens.flatMap((t, i) => (t === 'bank' ? [i] : []))).toEqual([0, 7]);
    expect([...a.tags]).toEqual(['uk-economy']);
    expect(a.section).toBe('business');
    expect(a.language).toBe('en');
    expect(searchText(a)).toBe('bank england rate bank rose');
  });
});
