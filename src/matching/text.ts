/**
 * Text analysis shared by the matcher, the query parser, the reference evaluator and the
 * database's forward search.
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
 * - Positions: title, summary and body are concatenated with a one-position gap between them, so
 *   a phrase never spans two fields. The title occupies positions [0, titleEnd).
 *
 * Speed: plain ASCII text (and ASCII with news punctuation such as ’ “ ” — …, which is replaced
 * by spaces: see SEPARATOR_CHARS) is split and looked up in WebAssembly (words.ts): a
 * per-language table maps each distinct word to its stem and interned id, so a word is folded,
 * stop-checked and stemmed once per process. The query parser and TopicIndex's fast path use the
 * same table, so topics and articles share one stem cache. Other non-ASCII text is folded (NFKD)
 * as a whole, then split the same way; only runs with non-ASCII letters go through the Unicode
 * word regex and a Map cache. Word caches are bounded (cleared past 500k words). Stems used by
 * topics are interned process-wide to integer ids (never cleared: bounded by the topics'
 * vocabulary). A prepared article keeps only ids; its stems (`tokens`) and positions are computed
 * when first asked for. Equivalence with the plain definition (foldWords +
 * stop words + stemWord) is a property test in test/unit/matching/text.test.ts.
 */
import { createRequire } from 'node:module';
import { WordTable } from './words.js';
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
const ASCII_RE = /^[\x00-\x7f]*$/;
const WORD_RE = /[\p{L}\p{N}]+/gu;
const ASCII_WORD_RE = /[a-z0-9]+/g;

/** Lower-case + accent-fold, keeping every character (used before splitting into words). */
function foldRaw(s: string): string {
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

// ------------------------------------------------------------------ stem interner
//
// Stems used by some topic are interned to small integer ids, shared by every TopicIndex, so an
// index can work on arrays instead of string maps. Articles never intern (a stem no topic uses
// cannot match), they only look up; `internVersion` changes whenever a stem is added, so a
// prepared article whose ids are stale can be detected and re-resolved.

const internIds = new Map<string, number>();
const internKeys: string[] = [];
let internVer = 0;

/** Id of `key` (a stem, or a field key from a TopicIndex), interning it if new. */
export function internTerm(key: string): number {
  let id = internIds.get(key);
  if (id === undefined) {
    id = internKeys.length;
    internKeys.push(key);
    internIds.set(key, id);
    internVer++;
  }
  return id;
}
/** Id of `key` or -1 when no topic uses it. */
export function lookupTerm(key: string): number {
  return internIds.get(key) ?? -1;
}
/** The key of an interned id. */
export function termKey(id: number): string {
  return internKeys[id];
}
export function internedCount(): number {
  return internKeys.length;
}
export function internVersion(): number {
  return internVer;
}

/** Per language: folded word → analysed word, for words that are not plain ASCII. */
interface Analysed {
  stem: string | null; // null for a stop word
  id: number; // interned id of `stem`, or -1
  ver: number; // internVersion when `id` was resolved
}
const analyzeCaches = new Map<string, Map<string, Analysed>>();

function analyzeCache(language: string): Map<string, Analysed> {
  let c = analyzeCaches.get(language);
  if (!c) {
    c = new Map();
    analyzeCaches.set(language, c);
  }
  return c;
}

function analyzeWord(w: string, language: string, cache: Map<string, Analysed>): Analysed {
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

/** ASCII letters and digits. */
const WORD_CI = new Uint8Array(128);
/** ASCII lower-case letters and digits (folded text: an upper-case letter there is not a word char). */
const WORD_LC = new Uint8Array(128);
for (let c = 48; c <= 57; c++) WORD_CI[c] = WORD_LC[c] = 1;
for (let c = 97; c <= 122; c++) WORD_CI[c] = WORD_LC[c] = 1;
for (let c = 65; c <= 90; c++) WORD_CI[c] = 1;

const wordTables = new Map<string, WordTable>();
function wordTable(language: string): WordTable {
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

// ------------------------------------------------------------------ scanners
//
// They append the analysed words of one field from index `scanN` on: the interned ids to
// `scanIds` (module scratch: single-threaded) or, when `scanTokens` is not null, the stems (null
// for stop words) to it.

let scanTokens: (string | null)[] | null = null;
let scanIds = new Int32Array(4096);
let scanN = 0;

function ensureIds(extra: number): void {
  const min = scanN + extra;
  if (min > scanIds.length) {
    let n = scanIds.length;
    while (n < min) n *= 2;
    scanIds = growTo(scanIds, n);
  }
}

function growTo(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

function push(stem: string | null, id: number): void {
  if (scanTokens !== null) scanTokens[scanN++] = stem;
  else {
    if (scanN >= scanIds.length) ensureIds(1);
    scanIds[scanN++] = id;
  }
}

/** Plain ASCII text through the word table; false (nothing appended) when `s` is not ASCII. */
function scanPlain(s: string, table: WordTable): boolean {
  if (scanTokens === null) ensureIds((s.length + 1) >> 1);
  const n = table.scan(s, scanIds, scanN, scanTokens);
  if (n < 0) return false;
  scanN += n;
  return true;
}

/**
 * Non-ASCII chars that are never part of a word and whose folded form (lower case, NFKD, marks
 * stripped) has no letter or digit: news text is full of them (’ “ ” — – … « » NBSP), and a space
 * in their place splits the text into the same words at the same positions. A unit test checks
 * every char of this class.
 */
export const SEPARATOR_CHARS = /[\u00a0-\u00a9\u00ab-\u00b1\u00b4\u00b6-\u00b8\u00bb\u00bf\u2000-\u206f]/g;
const OTHER_NON_ASCII = /[^\x00-\x7f\u00a0-\u00a9\u00ab-\u00b1\u00b4\u00b6-\u00b8\u00bb\u00bf\u2000-\u206f]/;
const UPPER_RE = /[A-Z]/g;

/**
 * Any text: plain ASCII goes straight to the word table; ASCII with separator chars too, with
 * spaces in their place. Anything else is folded (lower case, NFKD, marks, special letters) as a
 * whole: if that is ASCII, through the table (upper case from NFKD, as in "™" → "TM", separates,
 * as in `foldWords`); else split into runs between ASCII separators, a run of ASCII lower-case
 * letters and digits being one word (the table) and any other run going through the Unicode word
 * regex and a Map cache. Same words as `foldWords`.
 */
function scanText(s: string, language: string): void {
  const table = wordTable(language);
  if (scanPlain(s, table)) return;
  if (!OTHER_NON_ASCII.test(s)) {
    scanPlain(s.replace(SEPARATOR_CHARS, ' '), table);
    return;
  }
  const f = foldRaw(s);
  if (ASCII_RE.test(f)) {
    scanPlain(f.replace(UPPER_RE, ' '), table);
    return;
  }
  const cache = analyzeCache(language);
  const n = f.length;
  let i = 0;
  while (i < n) {
    let c = f.charCodeAt(i);
    if (c < 128 && WORD_CI[c] === 0) {
      i++;
      continue;
    }
    const start = i;
    let simple = true;
    do {
      if (c >= 128 || WORD_LC[c] === 0) simple = false;
      if (++i === n) break;
      c = f.charCodeAt(i);
    } while (c >= 128 || WORD_CI[c] === 1);
    if (simple) {
      const b = table.word(f, start, i);
      push(table.stem(b), Math.max(-1, table.id(b)));
    } else {
      const words = f.slice(start, i).match(WORD_RE);
      if (words !== null) {
        for (let k = 0; k < words.length; k++) {
          const a = analyzeWord(words[k], language, cache);
          push(a.stem, a.id);
        }
      }
    }
  }
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

/**
 * Analysed words of `text`: the stem of each word, or `null` for a stop word, in order, so that
 * the array index is the word's position.
 */
export function analyze(text: string, language = 'en'): (string | null)[] {
  const lang = normalizeLanguage(language);
  return collectTokens(() => scanText(text, lang));
}

/** The stems `scan` appends (run with the scanners in stem mode). */
function collectTokens(scan: () => void): (string | null)[] {
  const tokens: (string | null)[] = [];
  scanTokens = tokens;
  scanN = 0;
  try {
    scan();
  } finally {
    scanTokens = null;
  }
  if (tokens.length !== scanN) tokens.length = scanN;
  return tokens;
}

/** Stems of `text` in order, stop words removed (use `analyze` when positions matter). */
export function tokenize(text: string, language = 'en'): string[] {
  const out: string[] = [];
  for (const t of analyze(text, language)) if (t !== null) out.push(t);
  return out;
}

export interface ArticleInput {
  title: string;
  summary?: string | null;
  body?: string | null;
  tags?: readonly string[] | null;
  section?: string | null;
  language?: string | null;
}

/** What the matcher and the reference evaluator need from an article. */
export interface PreparedArticle {
  language: string;
  /**
   * Stems by position: title, gap, summary, gap, body. `null` for stop words and gaps. Computed
   * on first use (the matcher needs only the ids below).
   */
  readonly tokens: (string | null)[];
  /** Positions [0, titleEnd) are the title. */
  titleEnd: number;
  /** Normalised tags (see `normalizeTag`). */
  tags: Set<string>;
  /** Normalised section, or null. */
  section: string | null;
  /**
   * For the matcher, as of `internVersion`: the interned id of the stem at each position (-1 for
   * a stem no topic uses, a stop word or a gap); the interned ids of the tags, section and
   * language keys (-1 for those no topic uses).
   */
  ids: Int32Array;
  fieldIds: Int32Array;
  internVersion: number;
}

// ------------------------------------------------------------------ fields (tags, section, language)

/** A normalised tag or section and its interned-key form (`\u0001tag`, `\u0002section`). */
interface FieldNorm {
  value: string;
  key: string;
  /** Interned id of `key` (-1: none) as of interner version `ver`. */
  id: number;
  ver: number;
}

/** Interned id of a field's key (looked up again only when topics have interned since). */
function fieldId(f: FieldNorm): number {
  if (f.ver !== internVer) {
    f.id = lookupTerm(f.key);
    f.ver = internVer;
  }
  return f.id;
}
const FIELD_CACHE_MAX = 100_000;
const tagNorms = new Map<string, FieldNorm>();
const sectionNorms = new Map<string, FieldNorm>();
const langNorms = new Map<string, FieldNorm>();

function fieldNorm(cache: Map<string, FieldNorm>, raw: string, prefix: string): FieldNorm {
  let f = cache.get(raw);
  if (f === undefined) {
    const value = normalizeTag(raw);
    f = { value, key: prefix + value, id: -1, ver: -1 };
    if (cache.size >= FIELD_CACHE_MAX) cache.clear();
    cache.set(raw, f);
  }
  return f;
}
function langNorm(language: string): FieldNorm {
  let f = langNorms.get(language);
  if (f === undefined) {
    f = { value: language, key: `\u0003${language}`, id: -1, ver: -1 };
    if (langNorms.size >= FIELD_CACHE_MAX) langNorms.clear();
    langNorms.set(language, f);
  }
  return f;
}

// ------------------------------------------------------------------ articles

const NO_TAGS: readonly string[] = [];

class Prepared implements PreparedArticle {
  internVersion = internVer;
  private toks: (string | null)[] | null = null;

  constructor(
    readonly language: string,
    private readonly title: string,
    private readonly summary: string,
    private readonly body: string,
    readonly titleEnd: number,
    readonly tags: Set<string>,
    readonly section: string | null,
    public ids: Int32Array,
    public fieldIds: Int32Array,
  ) {}

  get tokens(): (string | null)[] {
    if (this.toks === null) this.toks = collectTokens(() => scanFields(this.title, this.summary, this.body, this.language));
    return this.toks;
  }

  /** Ids again from the stems (topics have interned stems since this article was prepared). */
  resolve(): void {
    const tokens = this.tokens;
    const ids = new Int32Array(tokens.length);
    for (let p = 0; p < tokens.length; p++) {
      const t = tokens[p];
      ids[p] = t === null ? -1 : lookupTerm(t);
    }
    const fieldIds: number[] = [];
    for (const t of this.tags) fieldIds.push(lookupTerm(`\u0001${t}`));
    if (this.section !== null) fieldIds.push(lookupTerm(`\u0002${this.section}`));
    fieldIds.push(fieldId(langNorm(this.language)));
    this.ids = ids;
    this.fieldIds = Int32Array.from(fieldIds);
    this.internVersion = internVer;
  }
}

/** Title, gap, summary, gap, body into the scan scratch; returns the title's end. */
function scanFields(title: string, summary: string, body: string, language: string): number {
  scanText(title, language);
  const titleEnd = scanN;
  push(null, -1); // gap: phrases never span two fields
  scanText(summary, language);
  push(null, -1);
  scanText(body, language);
  return titleEnd;
}

/**
 * Interned ids again when an article's are stale because topics added stems since it was
 * prepared (the matcher calls it).
 */
export function resolveTerms(a: PreparedArticle): void {
  if (a instanceof Prepared) a.resolve();
  else throw new TypeError('resolveTerms: not an article from prepareArticle');
}

export function prepareArticle(a: ArticleInput): PreparedArticle {
  const language = normalizeLanguage(a.language);
  const title = a.title ?? '';
  const summary = a.summary ?? '';
  const body = a.body ?? '';
  scanN = 0;
  const titleEnd = scanFields(title, summary, body, language);

  const rawTags = a.tags ?? NO_TAGS;
  const tags = new Set<string>();
  const fieldIds = new Int32Array(rawTags.length + 2);
  let nf = 0;
  for (let i = 0; i < rawTags.length; i++) {
    const f = fieldNorm(tagNorms, rawTags[i], '\u0001');
    if (f.value && !tags.has(f.value)) {
      tags.add(f.value);
      fieldIds[nf++] = fieldId(f);
    }
  }
  let section: string | null = null;
  if (a.section) {
    const f = fieldNorm(sectionNorms, a.section, '\u0002');
    if (f.value) {
      section = f.value;
      fieldIds[nf++] = fieldId(f);
    }
  }
  fieldIds[nf++] = fieldId(langNorm(language));
  return new Prepared(language, title, summary, body, titleEnd, tags, section, scanIds.slice(0, scanN), nf === fieldIds.length ? fieldIds : fieldIds.slice(0, nf));
}

/** Our stems of an article joined by spaces, for `to_tsvector('simple', …)` in the database. */
export function searchText(a: PreparedArticle): string {
  const out: string[] = [];
  for (const t of a.tokens) if (t !== null) out.push(t);
  return out.join(' ');
}

/**
 * Keys to count for `TopicIndex.setTermFrequencies` over recent articles: distinct stems, and
 * `tag:x`, `section:x`, `lang:x`.
 */
export function frequencyKeys(a: PreparedArticle): string[] {
  const keys = new Set<string>();
  for (const t of a.tokens) if (t !== null) keys.add(t);
  for (const t of a.tags) keys.add(`tag:${t}`);
  if (a.section) keys.add(`section:${a.section}`);
  keys.add(`lang:${a.language}`);
  return [...keys];
}
