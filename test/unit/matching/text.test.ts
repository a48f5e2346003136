import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze, prepareArticle, searchText, SEPARATOR_CHARS, tokenize } from '../../../src/matching/article.js';
import { internTerm, lookupTerm, termKey } from '../../../src/matching/terms.js';
import { foldText, foldWords, normalizeLanguage, normalizeTag, stemWord, stopWordsFor } from '../../../src/matching/text.js';

/** The definition the fast scanners must agree with: fold, split, drop stop words, stem. */
function spec(text: string, language: string): (string | null)[] {
  const lang = normalizeLanguage(language);
  const stops = stopWordsFor(lang);
  return foldWords(text).map((w) => (stops.has(w) ? null : stemWord(w, lang)));
}

// ASCII words of every length around the table's 12 packed chars, cases, punctuation, and the
// Unicode traps: accents, ß/ø/ł, Greek final sigma, compatibility forms (™ → "TM", ﬁ, ＮＡＴＯ,
// 𝐀, Kelvin sign), combining marks, lone surrogates, non-ASCII separators.
const PIECES = [
  'the', 'The', 'OF', 'and', 'sanctions', 'Sanctioned', 'JAPAN', 'japan', 'a1b2', '2024', 'x',
  'abcdefghijk', 'abcdefghijkl', 'abcdefghijklm', 'ABCDEFGHIJKLM', 'abcdefghijkm', 'internationalisation',
  'Internationalisations', 'antidisestablishmentarianism', 'abcdefghijklmnopqrstuvwxyz0123',
  'Häuser', 'café', 'CAFÉ', 'Straße', 'Øresund', 'Łódź', 'élections', 'présidentielles', 'naïve',
  'ΟΔΟΣ', 'Σ', "ΟΣ'Α", '™', 'ﬁsh', 'ＮＡＴＯ', '𝐀bc', '\u212A', 'İstanbul', 'ı', 'x\u0301', '\ud800',
  '😀', '½', '²', 'Ⅻ', '—', '’', "'", '.', ',', '-', ' ', ' ', ' ', '  ', '\n', '\u00a0',
  '“', '”', '…', '«', '»', '\u00ad', '\u200b', '·', '°', '´', '€', '£',
];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 14 }).map((a) => a.join(''));
const asciiText = text.map((s) => s.replace(/[^\x00-\x7f]/g, ' '));
// ASCII plus news punctuation only (the separator fast path)
const isSeparator = new RegExp(`^${SEPARATOR_CHARS.source}$`);
const newsText = text.map((s) => s.replace(/[^\x00-\x7f]/g, (c) => (isSeparator.test(c) ? c : '’')));
const anyText = fc.oneof(text, asciiText, newsText);
const language = fc.constantFrom('en', 'de', 'fr', 'tr', 'ru', 'xx', 'en-GB', 'DE');

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

  it('every separator char splits words and folds to no letter or digit', () => {
    const seps: string[] = [];
    for (let c = 0x80; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      if (isSeparator.test(ch)) seps.push(ch);
    }
    expect(seps.length).toBeGreaterThan(100);
    for (const ch of seps) {
      expect(/[\p{L}\p{N}\p{M}]/u.test(ch), `U+${ch.charCodeAt(0).toString(16)}`).toBe(false);
      expect(/[\p{L}\p{N}]/u.test(ch.toLowerCase().normalize('NFKD')), `U+${ch.charCodeAt(0).toString(16)}`).toBe(false);
      expect(foldWords(`Ab${ch}cd${ch}`)).toEqual(['ab', 'cd']);
      expect(analyze(`Ab${ch}cd ef`)).toEqual(['ab', 'cd', 'ef']);
    }
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

  it('analyze and prepareArticle agree with fold + split + stop words + stem (property)', () => {
    fc.assert(
      fc.property(anyText, anyText, anyText, language, fc.array(fc.constantFrom(...PIECES), { maxLength: 3 }), fc.boolean(), (title, summary, body, lang, tags, intern) => {
        expect(analyze(title, lang)).toEqual(spec(title, lang));
        expect(tokenize(body, lang)).toEqual(spec(body, lang).filter((t) => t !== null));
        const a = prepareArticle({ title, summary, body, tags, section: summary, language: lang });
        expect(a.tokens).toEqual([...spec(title, lang), null, ...spec(summary, lang), null, ...spec(body, lang)]);
        expect(a.titleEnd).toBe(spec(title, lang).length);
        expect([...a.tags]).toEqual([...new Set(tags.map(normalizeTag).filter((t) => t !== ''))]);
        expect(a.section).toBe(normalizeTag(summary) || null);
        // the matcher's view: the interned id of every token's stem, -1 where there is none
        expect([...a.ids]).toEqual(a.tokens.map((t) => (t === null ? -1 : lookupTerm(t))));
        // intern some stems now: later articles must see their ids
        if (intern) for (const t of a.tokens.slice(0, 3)) if (t !== null) expect(termKey(internTerm(t))).toBe(t);
      }),
      { numRuns: 3000 },
    );
  });
});
