/**
 * Text analysis shared by the matcher, the query parser, the reference evaluator and the
 * database's forward search: language codes, folding, stop words, stemming, and the caches and
 * per-language word tables behind them. Splitting an article into positions is article.ts.
 *
 * Rules (the index and the reference evaluator both rely on them, so keep them in one place):
 * - Folding: lower-case, NFKD, combining marks stripped, a few letters NFKD does not decompose
 *   mapped (ß→ss, ø→o, æ→ae, œ→oe, ł→l, đ→d, þ→th, ı→i); every run of characters that are not
 *   letters or digits separates words.
 * - Stemming: English with `wink-porter2-stemmer` (Porter2, the algorithm behind PostgreSQL's
 *   `english` configuration); other languages with `@orama/stemmers` (Snowball) where one exists;
 *   otherwise the folded word itself.
 * - Stop words: PostgreSQL's English stop list, applied to English text only (no other stop
 *   lists ship with our dependencies). A stop word is removed but still occupies its position,
 *   so the phrase "bank of england" matches "bank" at p and "england" at p + 2 — the same rule as
 *   PostgreSQL's `phraseto_tsquery` (`bank <2> england`).
 * - Positions (article.ts `scanFields`): title, summary and body are concatenated with a
 *   one-position gap between them, so a phrase never spans two fields. The title occupies
 *   positions [0, titleEnd).
 *
 * Speed: plain ASCII words are looked up in WebAssembly (word-scanner.ts): a per-language table
 * maps each distinct word to its stem and interned id, so a word is folded, stop-checked and
 * stemmed once per process. The query parser and TopicIndex's fast path use the same table, so
 * topics and articles share one stem cache. Other words go through a Map cache. Word caches are
 * bounded (cleared past 500k words). Stems used by topics are interned process-wide to integer
 * ids (terms.ts; never cleared: bounded by the topics' vocabulary).
 */
import { createRequire } from 'node:module';
import { internTerm, internVer, internVersion, lookupTerm } from './terms.js';
import { WordTable } from './word-scanner.js';
import { stemmer as stemDa } from '@orama/stemmers/danish';
import { stemmer as stemNl } from '@orama/stemmers/dutch';
import { stemmer as stemFi } from '@orama/stemmers/finnish';
import { stemmer as stemFr } from '@orama/stemmers/french';
import { stemmer as stemDe } from '@orama/stemmers/german';
import { stemmer as stemHu } from '@orama/stemmers/hungarian';
import { stemmer as stemIt } from '@orama/stemmers/italian';
import { stemmer as stemNo } from '@orama/stemmers/norwegian';
import { stemmer as stemPt } from '@orama/stemmers/portuguese';
import { stemmer as stemRo } from '@orama/stemmers/romanian';
import { stemmer as stemRu } from '@orama/stemmers/russian';
import { stemmer as stemEs } from '@orama/stemmers/spanish';
import { stemmer as stemSv } from '@orama/stemmers/swedish';
import { stemmer as stemTr } from '@orama/stemmers/turkish';

const require = createRequire(import.meta.url);
const porter2 = require('wink-porter2-stemmer') as (word: string) => string;

/** PostgreSQL's `english.stop` (Snowball English stop words). */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'i me my myself we our ours ourselves you your yours yourself yourselves he him his himself ' +
    'she her hers herself it its itself they them their theirs themselves what which who whom this ' +
    'that these those am is are was were be been being have has had having do does did doing a an ' +
    'the and but if or because as until while of at by for with about against between into through ' +
    'during before after above below to from up down in out on off over under again further then ' +
    'once here there when where why how all any both each few more most other some such no nor not ' +
    'only own same so than too very s t can will just don should now'
  ).split(' '),
);

const EMPTY_SET: ReadonlySet<string> = new Set();

const STEMMERS: Record<string, (w: string) => string> = {
  en: porter2,
  da: stemDa,
  nl: stemNl,
  fi: stemFi,
  fr: stemFr,
  de: stemDe,
  hu: stemHu,
  it: stemIt,
  no: stemNo,
  nb: stemNo,
  nn: stemNo,
  pt: stemPt,
  ro: stemRo,
  ru: stemRu,
  es: stemEs,
  sv: stemSv,
  tr: stemTr,
};

/** Languages with a stemmer (others are matched on folded, unstemmed words). */
export const STEMMED_LANGUAGES: readonly string[] = Object.keys(STEMMERS);

/** `en-GB` → `en`, `' DE '` → `de`, empty/undefined → `en`. */
export function normalizeLanguage(lang: string | null | undefined): string {
  if (!lang || lang === 'en') return 'en';
  let r = languages.get(lang);
  if (r === undefined) {
    const l = lang.trim().toLowerCase().split(/[-_]/)[0];
    r = l && /^[a-z]{2,3}$/.test(l) ? l : 'en';
    if (languages.size >= 10_000) languages.clear();
    languages.set(lang, r);
  }
  return r;
}
const languages = new Map<string, string>();

export function stopWordsFor(language: string): ReadonlySet<string> {
  return language === 'en' ? ENGLISH_STOP_WORDS : EMPTY_SET;
}

const SPECIAL_FOLD: Record<string, string> = {
  ß: 'ss',
  ø: 'o',
  æ: 'ae',
  œ: 'oe',
  ł: 'l',
  đ: 'd',
  þ: 'th',
  ı: 'i',
};
const SPECIAL_RE = /[ßøæœłđþı]/g;
const specialFold = (c: string): string => SPECIAL_FOLD[c] ?? c;
const MARKS_RE = /\p{M}+/gu;
// eslint-disable-next-line no-control-regex
export const ASCII_RE = /^[\x00-\x7f]*$/;
export const WORD_RE = /[\p{L}\p{N}]+/gu;
const ASCII_WORD_RE = /[a-z0-9]+/g;

/** Lower-case + accent-fold, keeping every character (used before splitting into words). */
export function foldRaw(s: string): string {
  const lower = s.toLowerCase();
  if (ASCII_RE.test(lower)) return lower;
  return lower.normalize('NFKD').replace(MARKS_RE, '').replace(SPECIAL_RE, specialFold);
}

/** The folded words of `s`, in order. */
export function foldWords(s: string): string[] {
  const f = foldRaw(s);
  return f.match(ASCII_RE.test(f) ? ASCII_WORD_RE : WORD_RE) ?? [];
}

/**
 * Lower-case, NFKD, combining marks stripped; letters and digits kept, every other run of
 * characters becomes one space (trimmed). `"Café  Zürich!"` → `"cafe zurich"`.
 */
export function foldText(s: string): string {
  return foldWords(s).join(' ');
}

/** Tag / section normal form: folded, `.` and apostrophes dropped, separators → `-`. */
export function normalizeTag(s: string): string {
  return foldText(s.replace(/[.'’]/g, '')).replace(/ /g, '-');
}

const STEM_CACHE_MAX = 500_000;
const stemCaches = new Map<string, Map<string, string>>();

/** Per language: folded word → analysed word, for words that are not plain ASCII. */
export interface Analysed {
  stem: string | null; // null for a stop word
  id: number; // interned id of `stem`, or -1
  ver: number; // internVersion when `id` was resolved
}
const analyzeCaches = new Map<string, Map<string, Analysed>>();

export function analyzeCache(language: string): Map<string, Analysed> {
  let c = analyzeCaches.get(language);
  if (!c) {
    c = new Map();
    analyzeCaches.set(language, c);
  }
  return c;
}

export function analyzeWord(w: string, language: string, cache: Map<string, Analysed>): Analysed {
  let s = cache.get(w);
  if (s === undefined) {
    const stem = stopWordsFor(language).has(w) ? null : stemWord(w, language);
    s = { stem, id: stem === null ? -1 : lookupTerm(stem), ver: internVer };
    if (cache.size >= STEM_CACHE_MAX) cache.clear();
    cache.set(w, s);
  } else if (s.id === -1 && s.ver !== internVer) {
    // ids are never un-interned: only a word without one may have gained one since
    if (s.stem !== null) s.id = lookupTerm(s.stem);
    s.ver = internVer;
  }
  return s;
}

const wordTables = new Map<string, WordTable>();
export function wordTable(language: string): WordTable {
  let t = wordTables.get(language);
  if (!t) {
    const stemmer = STEMMERS[language];
    const stops = stopWordsFor(language);
    const analyse = (w: string): string | null => (stops.has(w) ? null : (stemmer && stemmer(w)) || w);
    t = new WordTable({ analyse, lookup: lookupTerm, version: internVersion }, STEM_CACHE_MAX);
    wordTables.set(language, t);
  }
  return t;
}

/**
 * Interned stem id of the plain ASCII query word `s[start, end)` (letters and digits, any case),
 * interning the stem now (a query's stems are what the index will need), or -1 for a stop word.
 * Shares the articles' word table: a word is stemmed once per process, whoever sees it first.
 */
export function queryWordId(s: string, start: number, end: number, language: string): number {
  const table = wordTable(language);
  const b = table.word(s, start, end);
  let id = table.id(b);
  if (id === -2) return -1; // stop word
  if (id === -1) {
    id = internTerm(table.stem(b) as string);
    table.setId(b, id);
  }
  return id;
}

/**
 * Interned stem id of a plain, lower-case ASCII query word (letters and digits only, not a stop
 * word): the fast path of parseQuery. The stem is `termKey(id)`.
 */
export function asciiQueryWordId(word: string, language: string): number {
  return queryWordId(word, 0, word.length, language);
}

const queryWordCaches = new Map<string, Map<string, { stem: string; id: number }>>();

/**
 * Stem of a folded query word and the stem's interned id (interned now: a query's stems are what
 * the index will need). One cached lookup per word.
 */
export function analyzeQueryWord(word: string, language: string): { stem: string; id: number } {
  let cache = queryWordCaches.get(language);
  if (!cache) {
    cache = new Map();
    queryWordCaches.set(language, cache);
  }
  let r = cache.get(word);
  if (r === undefined) {
    const stemmer = STEMMERS[language];
    const stem = (stemmer && stemmer(word)) || word; // this cache is the cache: no stemWord
    r = { stem, id: internTerm(stem) };
    if (cache.size >= STEM_CACHE_MAX) cache.clear();
    cache.set(word, r);
  }
  return r;
}

/** Stem one folded word with `language`'s stemmer (cached). */
export function stemWord(word: string, language: string): string {
  const stem = STEMMERS[language];
  if (!stem) return word;
  let cache = stemCaches.get(language);
  if (!cache) {
    cache = new Map();
    stemCaches.set(language, cache);
  }
  let s = cache.get(word);
  if (s === undefined) {
    s = stem(word);
    if (!s) s = word;
    if (cache.size >= STEM_CACHE_MAX) cache.clear();
    cache.set(word, s);
  }
  return s;
}
