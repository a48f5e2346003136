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
 * Speed: prepareArticle reads plain ASCII text with a hand-rolled scanner and an open-addressing
 * word table (no substring, no Map lookup for known words); other text goes through NFKD and a
 * Map cache. Word caches are bounded (cleared past 500k words). Stems used by topics are
 * interned process-wide to integer ids (never cleared: bounded by the topics' vocabulary).
 */
import { createRequire } from 'node:module';
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
  const l = lang.trim().toLowerCase().split(/[-_]/)[0];
  return l && /^[a-z]{2,3}$/.test(l) ? l : 'en';
}

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

/** Per language: folded word → analysed word (stem and interned id, or stop word). */
interface Analysed {
  stem: string; // '' for a stop word
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
    const stem = stopWordsFor(language).has(w) ? '' : stemWord(w, language);
    s = { stem, id: stem === '' ? -1 : lookupTerm(stem), ver: internVer };
    if (cache.size >= STEM_CACHE_MAX) cache.clear();
    cache.set(w, s);
  } else if (s.ver !== internVer) {
    if (s.stem !== '') s.id = lookupTerm(s.stem);
    s.ver = internVer;
  }
  return s;
}

/**
 * Open-addressing table from an ASCII word (read straight from the lower-cased text, without
 * making a substring first) to its analysis: the hot path of prepareArticle.
 */
class AsciiWordTable {
  private mask = (1 << 16) - 1;
  private slotHash = new Int32Array(1 << 16);
  private slotEntry = new Int32Array(1 << 16); // entry index + 1; 0 = empty
  private words: string[] = [];
  private analysed: Analysed[] = [];

  constructor(private readonly language: string) {}

  get(s: string, start: number, end: number, h: number): Analysed {
    const len = end - start;
    const words = this.words;
    let i = h & this.mask;
    for (;;) {
      const e = this.slotEntry[i];
      if (e === 0) break;
      if (this.slotHash[i] === h) {
        const w = words[e - 1];
        if (w.length === len && s.startsWith(w, start)) {
          const a = this.analysed[e - 1];
          if (a.ver !== internVer) {
            if (a.stem !== '') a.id = lookupTerm(a.stem);
            a.ver = internVer;
          }
          return a;
        }
      }
      i = (i + 1) & this.mask;
    }
    const w = s.slice(start, end);
    const stem = stopWordsFor(this.language).has(w) ? '' : stemWord(w, this.language);
    const a: Analysed = { stem, id: stem === '' ? -1 : lookupTerm(stem), ver: internVer };
    if (this.words.length >= STEM_CACHE_MAX) this.reset();
    else if ((this.words.length + 1) * 2 > this.mask) this.resize();
    this.insert(w, a, h);
    return a;
  }

  private insert(w: string, a: Analysed, h: number): void {
    this.words.push(w);
    this.analysed.push(a);
    let i = h & this.mask;
    while (this.slotEntry[i] !== 0) i = (i + 1) & this.mask;
    this.slotHash[i] = h;
    this.slotEntry[i] = this.words.length;
  }

  private reset(): void {
    this.words = [];
    this.analysed = [];
    this.slotEntry.fill(0);
  }

  private resize(): void {
    const n = (this.mask + 1) * 2;
    const oldHash = this.slotHash;
    const oldEntry = this.slotEntry;
    this.mask = n - 1;
    this.slotHash = new Int32Array(n);
    this.slotEntry = new Int32Array(n);
    for (let j = 0; j < oldEntry.length; j++) {
      const e = oldEntry[j];
      if (e === 0) continue;
      let i = oldHash[j] & this.mask;
      while (this.slotEntry[i] !== 0) i = (i + 1) & this.mask;
      this.slotHash[i] = oldHash[j];
      this.slotEntry[i] = e;
    }
  }
}
const asciiTables = new Map<string, AsciiWordTable>();

/**
 * Compact hash table from a plain ASCII query word to the interned id of its stem: slots of four
 * int32 (hash, offset and length of the word in a byte pool, id + 1), so a lookup touches about
 * two cache lines instead of the four or five of a Map<string, object> (it is the hot spot of
 * loading a million topics).
 */
class AsciiWordIds {
  private slots = new Int32Array(4 << 14);
  private mask = (1 << 14) - 1;
  private pool = new Uint8Array(1 << 16);
  private poolLen = 0;
  private count = 0;

  static hash(w: string): number {
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193);
    return h ^ (h >>> 15);
  }

  get(w: string, h: number): number {
    const slots = this.slots;
    const pool = this.pool;
    const len = w.length;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const b = i << 2;
      const v = slots[b + 3];
      if (v === 0) return -1;
      if (slots[b] !== h || slots[b + 2] !== len) continue;
      const off = slots[b + 1];
      let k = 0;
      while (k < len && pool[off + k] === w.charCodeAt(k)) k++;
      if (k === len) return v - 1;
    }
  }

  set(w: string, h: number, id: number): void {
    if (this.count >= STEM_CACHE_MAX) this.clear();
    if ((this.count + 1) * 2 > this.mask) this.resize();
    if (this.poolLen + w.length > this.pool.length) {
      const p = new Uint8Array(Math.max(this.pool.length * 2, this.poolLen + w.length));
      p.set(this.pool);
      this.pool = p;
    }
    const off = this.poolLen;
    for (let k = 0; k < w.length; k++) this.pool[off + k] = w.charCodeAt(k);
    this.poolLen += w.length;
    this.place(h, off, w.length, id + 1);
    this.count++;
  }

  private place(h: number, off: number, len: number, v: number): void {
    let i = h & this.mask;
    while (this.slots[(i << 2) + 3] !== 0) i = (i + 1) & this.mask;
    const b = i << 2;
    this.slots[b] = h;
    this.slots[b + 1] = off;
    this.slots[b + 2] = len;
    this.slots[b + 3] = v;
  }

  private resize(): void {
    const old = this.slots;
    this.mask = this.mask * 2 + 1;
    this.slots = new Int32Array((this.mask + 1) * 4);
    for (let b = 0; b < old.length; b += 4) if (old[b + 3] !== 0) this.place(old[b], old[b + 1], old[b + 2], old[b + 3]);
  }

  private clear(): void {
    this.slots.fill(0);
    this.poolLen = 0;
    this.count = 0;
  }
}
const asciiQueryWords = new Map<string, AsciiWordIds>();

/**
 * Interned stem id of a plain, lower-case ASCII query word (letters and digits only, not a stop
 * word): the fast path of parseQuery. The stem is `termKey(id)`.
 */
export function asciiQueryWordId(word: string, language: string): number {
  let t = asciiQueryWords.get(language);
  if (!t) asciiQueryWords.set(language, (t = new AsciiWordIds()));
  const h = AsciiWordIds.hash(word);
  let id = t.get(word, h);
  if (id < 0) {
    const stemmer = STEMMERS[language];
    id = internTerm((stemmer && stemmer(word)) || word);
    t.set(word, h, id);
  }
  return id;
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
  const stops = stopWordsFor(lang);
  const words = foldWords(text);
  const out: (string | null)[] = new Array(words.length);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    out[i] = stops.has(w) ? null : stemWord(w, lang);
  }
  return out;
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
  /** Stems by position: title, gap, summary, gap, body. `null` for stop words and gaps. */
  tokens: (string | null)[];
  /** Positions [0, titleEnd) are the title. */
  titleEnd: number;
  /** Normalised tags (see `normalizeTag`). */
  tags: Set<string>;
  /** Normalised section, or null. */
  section: string | null;
  /**
   * For the matcher: the distinct interned stem ids of the article (stems that some topic uses)
   * and their ascending positions `posData[posStart[i] .. posStart[i + 1])`, as of `internVersion`.
   */
  termIds: Int32Array;
  posStart: Int32Array;
  posData: Int32Array;
  internVersion: number;
}

// scratch for prepareArticle (single-threaded)
let slotGen = new Uint32Array(1024);
let slotOf = new Int32Array(1024);
let scratchGen = 0;

/**
 * Interned ids and positions from `tokens` (used by prepareArticle, and by the matcher when an
 * article's ids are stale because topics added stems since it was prepared).
 */
export function resolveTerms(a: PreparedArticle): void {
  const tokens = a.tokens;
  const ids = new Int32Array(tokens.length);
  for (let p = 0; p < tokens.length; p++) {
    const t = tokens[p];
    ids[p] = t === null ? -1 : lookupTerm(t);
  }
  fillPositions(a, ids, tokens.length);
}

function fillPositions(a: PreparedArticle, ids: Int32Array, n: number): void {
  const nIds = internKeys.length;
  if (slotGen.length < nIds) {
    let m = slotGen.length;
    while (m < nIds) m *= 2;
    slotGen = new Uint32Array(m);
    slotOf = new Int32Array(m);
    scratchGen = 0;
  }
  if (scratchGen >= 0xfffffff0) {
    slotGen.fill(0);
    scratchGen = 0;
  }
  const gen = ++scratchGen;
  // pass 1: distinct ids and counts
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let p = 0; p < n; p++) {
    const id = ids[p];
    if (id < 0) continue;
    if (slotGen[id] !== gen) {
      slotGen[id] = gen;
      slotOf[id] = distinct.length;
      distinct.push(id);
      counts.push(1);
    } else counts[slotOf[id]]++;
  }
  const k = distinct.length;
  const posStart = new Int32Array(k + 1);
  for (let i = 0; i < k; i++) posStart[i + 1] = posStart[i] + counts[i];
  const posData = new Int32Array(posStart[k]);
  const cursor = posStart.slice(0, k);
  for (let p = 0; p < n; p++) {
    const id = ids[p];
    if (id >= 0) posData[cursor[slotOf[id]]++] = p;
  }
  a.termIds = Int32Array.from(distinct);
  a.posStart = posStart;
  a.posData = posData;
  a.internVersion = internVer;
}

const EMPTY_I32 = new Int32Array(0);
let idScratch = new Int32Array(4096);

export function prepareArticle(a: ArticleInput): PreparedArticle {
  const language = normalizeLanguage(a.language);
  const cache = analyzeCache(language);
  const tokens: (string | null)[] = [];
  let titleEnd = 0;
  const parts = [a.title ?? '', a.summary ?? '', a.body ?? ''];
  let ids = idScratch;
  for (let p = 0; p < parts.length; p++) {
    if (p > 0) {
      // gap: phrases never span two fields
      if (tokens.length >= ids.length) ids = grow(ids, tokens.length + 1);
      ids[tokens.length] = -1;
      tokens.push(null);
    }
    const lower = parts[p].toLowerCase();
    if (ASCII_RE.test(lower)) {
      // fast path: scan the text, hash each word as we go, no substrings for known words
      let table = asciiTables.get(language);
      if (!table) asciiTables.set(language, (table = new AsciiWordTable(language)));
      if (tokens.length + lower.length / 2 + 1 > ids.length) ids = grow(ids, tokens.length + lower.length / 2 + 1);
      const n = lower.length;
      let i = 0;
      while (i < n) {
        let c = lower.charCodeAt(i);
        if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57))) {
          i++;
          continue;
        }
        const start = i;
        let h = 0;
        do {
          h = (Math.imul(h, 31) + c) | 0;
          c = ++i < n ? lower.charCodeAt(i) : 0;
        } while ((c >= 97 && c <= 122) || (c >= 48 && c <= 57));
        h ^= h >>> 16;
        h = Math.imul(h, 0x45d9f3b);
        h ^= h >>> 16;
        const w = table.get(lower, start, i, h);
        ids[tokens.length] = w.id;
        tokens.push(w.stem === '' ? null : w.stem);
      }
    } else {
      const words = foldWords(parts[p]);
      if (tokens.length + words.length > ids.length) ids = grow(ids, tokens.length + words.length);
      for (let i = 0; i < words.length; i++) {
        const w = analyzeWord(words[i], language, cache);
        ids[tokens.length] = w.id;
        tokens.push(w.stem === '' ? null : w.stem);
      }
    }
    if (p === 0) titleEnd = tokens.length;
  }
  idScratch = ids;
  const tags = new Set<string>();
  for (const t of a.tags ?? []) {
    const n = normalizeTag(t);
    if (n) tags.add(n);
  }
  const section = a.section ? normalizeTag(a.section) || null : null;
  const out: PreparedArticle = {
    language,
    tokens,
    titleEnd,
    tags,
    section,
    termIds: EMPTY_I32,
    posStart: EMPTY_I32,
    posData: EMPTY_I32,
    internVersion: -1,
  };
  fillPositions(out, ids, tokens.length);
  return out;
}

function grow(a: Int32Array<ArrayBuffer>, min: number): Int32Array<ArrayBuffer> {
  let n = a.length;
  while (n < min) n *= 2;
  const b = new Int32Array(n);
  b.set(a);
  return b;
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
