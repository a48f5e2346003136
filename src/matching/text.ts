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
 * Speed: prepareArticle reads plain ASCII text (most fields) in one pass over the char codes,
 * folding case inline, packing and hashing each word as it goes; a per-language open-addressing
 * table (32-byte slots: hash, length, first 12 chars, stem id) maps each distinct word to its stem
 * and interned id, so a word is folded, stop-checked and stemmed once per process. The query
 * parser and TopicIndex's fast path use the same table, so topics and articles share one stem
 * cache. Text with non-ASCII chars is folded (NFKD) as a whole, then split the same way; only runs
 * with non-ASCII letters go through the Unicode word regex and a Map cache. Word caches are bounded
 * (cleared past 500k words). Stems used by topics are interned process-wide to integer ids (never
 * cleared: bounded by the topics' vocabulary). Equivalence with the plain definition (foldWords +
 * stop words + stemWord) is a property test in test/unit/matching/text.test.ts.
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

/** ASCII letters and digits (upper case included: the plain-text scanner folds it with `| 32`). */
const WORD_CI = new Uint8Array(128);
/** ASCII lower-case letters and digits (folded text: an upper-case letter there is not a word char). */
const WORD_LC = new Uint8Array(128);
for (let c = 48; c <= 57; c++) WORD_CI[c] = WORD_LC[c] = 1;
for (let c = 97; c <= 122; c++) WORD_CI[c] = WORD_LC[c] = 1;
for (let c = 65; c <= 90; c++) WORD_CI[c] = 1;

/**
 * Word hashing shared by the scanners and the table: chars (case-folded with `| 32`) are packed
 * four to an int32, first char in the high byte; the hash mixes the packed ints and the length.
 * A word is identified by its length and its packed ints (the first three in the table slot,
 * the rest of a longer word in a pool).
 */
const HASH_MUL = 0x9e3779b1 | 0;
function finishHash(h: number, len: number): number {
  h = Math.imul(h ^ len, 0x45d9f3b);
  return h ^ (h >>> 16);
}
/** Packed int `k` (chars 4k .. 4k+3) of the case-folded word `s[start, end)`, 0 past its end. */
function packedAt(s: string, start: number, end: number, k: number): number {
  let p = 0;
  for (let i = start + 4 * k, e = Math.min(end, i + 4); i < e; i++) p = (p << 8) | (s.charCodeAt(i) | 32);
  return p;
}
/** Hash of the case-folded word `s[start, end)` (same as the scanners compute inline). */
function hashWord(s: string, start: number, end: number): number {
  let h = 0;
  for (let k = 0; start + 4 * k < end; k++) h = Math.imul(h ^ packedAt(s, start, end, k), HASH_MUL);
  return finishHash(h, end - start);
}

/**
 * Per language: open-addressing table from a plain ASCII word (letters and digits; hashed and
 * compared case-insensitively, straight from the text, without making a substring first) to its
 * analysis (stem or null for a stop word, interned id). The hot path of prepareArticle: each
 * distinct word is folded, checked against the stop list and stemmed once per process (bounded:
 * cleared past 500k words).
 */
class AsciiWordTable {
  // Slots of 8 int32 (32 bytes: a lookup touches one cache line): [hash, entry + 1 (0 = empty),
  // length, interned id (-1 none as of the version, -2 stop word), internVersion when the id was
  // last looked up, packed chars 0-3, 4-7, 8-11]; a word longer
  // than 12 chars keeps the rest of its chars in `pool` from `wOff[entry]`.
  private mask = (1 << 14) - 1;
  private slots = new Int32Array(8 << 14);
  private pool = new Uint8Array(1 << 16);
  private poolLen = 0;
  private wOff = new Int32Array(1 << 13);
  /** Per entry: the stem, or null for a stop word. */
  readonly stems: (string | null)[] = [];
  private count = 0;
  private readonly stemmer: ((w: string) => string) | undefined;
  private readonly stops: ReadonlySet<string>;

  constructor(language: string) {
    this.stemmer = STEMMERS[language];
    this.stops = stopWordsFor(language);
  }

  /**
   * Slot offset (into `slots`) of the word `s[start, end)` with hash `h` and packed ints
   * `p0, p1, p2`, added if new; its interned id is brought up to date.
   */
  find(s: string, start: number, end: number, h: number, p0: number, p1: number, p2: number): number {
    const len = end - start;
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const b = i << 3;
      const v = slots[b + 1];
      if (v === 0) return this.add(s, start, end, h, p0, p1, p2);
      if (slots[b] !== h || slots[b + 2] !== len || slots[b + 5] !== p0 || slots[b + 6] !== p1 || slots[b + 7] !== p2) continue;
      if (len > 12) {
        const pool = this.pool;
        let o = this.wOff[v - 1];
        let k = start + 12;
        while (k < end && pool[o] === (s.charCodeAt(k) | 32)) {
          k++;
          o++;
        }
        if (k < end) continue;
      }
      // ids are never un-interned: only a word without one may have gained one since
      if (slots[b + 3] === -1 && slots[b + 4] !== internVer) {
        slots[b + 3] = lookupTerm(this.stems[v - 1] as string);
        slots[b + 4] = internVer;
      }
      return b;
    }
  }

  /** Read the first slot of each hash and its stem (warms the cache for the lookups that follow). */
  touch(hashes: Int32Array, n: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const stems = this.stems;
    let x = 0;
    for (let j = 0; j < n; j++) {
      const v = slots[((hashes[j] & mask) << 3) + 1];
      if (v !== 0 && stems[v - 1] === null) x++;
    }
    return x;
  }

  /** Interned id of the word at slot offset `b`; -1 when no topic uses its stem, -2 for a stop word. */
  id(b: number): number {
    return this.slots[b + 3];
  }
  /** Record the interned id of the word at slot offset `b` (just interned). */
  setId(b: number, id: number): void {
    this.slots[b + 3] = id;
    this.slots[b + 4] = internVer;
  }
  /** Stem (or null) of the word at slot offset `b`. */
  stem(b: number): string | null {
    return this.stems[this.slots[b + 1] - 1];
  }

  private add(s: string, start: number, end: number, h: number, p0: number, p1: number, p2: number): number {
    if (this.count >= STEM_CACHE_MAX) this.reset();
    if ((this.count + 1) * 2 > this.mask) this.resize();
    const e = this.count++;
    const len = end - start;
    let w = s.slice(start, end);
    for (let k = 0; k < len; k++) {
      const c = w.charCodeAt(k);
      if (c >= 65 && c <= 90) {
        w = w.toLowerCase();
        break;
      }
    }
    if (len > 12) {
      if (e >= this.wOff.length) this.wOff = growTo(this.wOff, this.wOff.length * 2);
      if (this.poolLen + len > this.pool.length) {
        const p = new Uint8Array(Math.max(this.pool.length * 2, this.poolLen + len));
        p.set(this.pool);
        this.pool = p;
      }
      this.wOff[e] = this.poolLen;
      for (let k = 12; k < len; k++) this.pool[this.poolLen++] = w.charCodeAt(k);
    }
    const stem = this.stops.has(w) ? null : this.stemmer ? this.stemmer(w) || w : w;
    this.stems[e] = stem;
    const slots = this.slots;
    const b = this.place(h);
    slots[b] = h;
    slots[b + 1] = e + 1;
    slots[b + 2] = len;
    slots[b + 3] = stem === null ? -2 : lookupTerm(stem); // -2: stop word, -1: no topic uses it
    slots[b + 4] = internVer;
    slots[b + 5] = p0;
    slots[b + 6] = p1;
    slots[b + 7] = p2;
    return b;
  }

  /** Offset of the empty slot where hash `h` goes. */
  private place(h: number): number {
    const mask = this.mask;
    let i = h & mask;
    while (this.slots[(i << 3) + 1] !== 0) i = (i + 1) & mask;
    return i << 3;
  }

  private reset(): void {
    this.slots.fill(0);
    this.stems.length = 0; // same array: callers may hold it
    this.poolLen = 0;
    this.count = 0;
  }

  private resize(): void {
    const old = this.slots;
    this.mask = this.mask * 2 + 1;
    this.slots = new Int32Array((this.mask + 1) * 8);
    for (let ob = 0; ob < old.length; ob += 8) {
      if (old[ob + 1] === 0) continue;
      const b = this.place(old[ob]);
      for (let k = 0; k < 8; k++) this.slots[b + k] = old[ob + k];
    }
  }
}

function growTo(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

const asciiTables = new Map<string, AsciiWordTable>();
function asciiTable(language: string): AsciiWordTable {
  let t = asciiTables.get(language);
  if (!t) asciiTables.set(language, (t = new AsciiWordTable(language)));
  return t;
}

// ------------------------------------------------------------------ scanners
//
// They append the analysed words of one field to `scanTokens` (stems, null for stop words) and
// their interned ids to `scanIds`, from index `scanN` on (module scratch: single-threaded).

let scanTokens: (string | null)[] = [];
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

function push(stem: string | null, id: number): void {
  if (scanN >= scanIds.length) ensureIds(1);
  scanIds[scanN] = id;
  scanTokens[scanN++] = stem;
}

// words of the field being scanned (scratch): start, end, hash, first three packed ints
let wStart = new Int32Array(2048);
let wEnd = new Int32Array(2048);
let wHash = new Int32Array(2048);
let wPack = new Int32Array(3 * 2048);
let touched = 0;

/**
 * Plain ASCII text: words are runs of `cls` chars, upper case folded inline. Returns false, having
 * appended nothing, at the first non-ASCII char (the caller then takes the general path for the
 * whole field).
 *
 * Three passes: (1) one pass over the char codes finds the words, packs and hashes them; (2)
 * touches each word's table slot: independent loads the CPU overlaps (rare words miss the cache);
 * (3) the lookups proper.
 */
function scanAscii(s: string, table: AsciiWordTable, cls: Uint8Array): boolean {
  const n = s.length;
  const maxWords = (n + 1) >> 1; // a word and its separator take at least two chars
  if (wStart.length < maxWords) {
    let m = wStart.length;
    while (m < maxWords) m *= 2;
    wStart = new Int32Array(m);
    wEnd = new Int32Array(m);
    wHash = new Int32Array(m);
    wPack = new Int32Array(3 * m);
  }
  const ws = wStart;
  const we = wEnd;
  const wh = wHash;
  const wp = wPack;
  let nw = 0;
  let i = 0;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (c >= 128) return false;
    if (cls[c] === 0) {
      i++;
      continue;
    }
    const start = i;
    const pk = 3 * nw;
    wp[pk] = 0;
    wp[pk + 1] = 0;
    wp[pk + 2] = 0;
    let h = 0;
    let p = 0;
    let q = 0; // chars in p
    let k = 0; // packed ints done
    do {
      p = (p << 8) | (c | 32);
      if (++q === 4) {
        if (k < 3) wp[pk + k] = p;
        h = Math.imul(h ^ p, HASH_MUL);
        k++;
        p = 0;
        q = 0;
      }
      if (++i === n) break;
      c = s.charCodeAt(i);
    } while (c < 128 && cls[c] === 1);
    if (q > 0) {
      if (k < 3) wp[pk + k] = p;
      h = Math.imul(h ^ p, HASH_MUL);
    }
    ws[nw] = start;
    we[nw] = i;
    wh[nw++] = finishHash(h, i - start);
  }
  touched ^= table.touch(wh, nw);
  ensureIds(nw);
  const ids = scanIds;
  const tokens = scanTokens;
  let m = scanN;
  for (let j = 0; j < nw; j++) {
    const b = table.find(s, ws[j], we[j], wh[j], wp[3 * j], wp[3 * j + 1], wp[3 * j + 2]);
    ids[m] = table.id(b);
    tokens[m++] = table.stem(b);
  }
  scanN = m;
  return true;
}

/**
 * Any text: fold it (lower case, NFKD, marks, special letters), then split it into runs between
 * ASCII separators; a run of ASCII lower-case letters and digits is one word (the ASCII table),
 * any other run goes through the Unicode word regex and a Map cache. Same words as `foldWords`.
 */
function scanText(s: string, language: string): void {
  const table = asciiTable(language);
  if (scanAscii(s, table, WORD_CI)) return;
  const f = foldRaw(s);
  // an all-ASCII folded text is split on [a-z0-9]+ (upper case from NFKD, e.g. "™", separates)
  if (ASCII_RE.test(f)) {
    scanAscii(f, table, WORD_LC);
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
      const b = table.find(f, start, i, hashWord(f, start, i), packedAt(f, start, i, 0), packedAt(f, start, i, 1), packedAt(f, start, i, 2));
      push(table.stem(b), table.id(b));
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
  const table = asciiTable(language);
  const b = table.find(s, start, end, hashWord(s, start, end), packedAt(s, start, end, 0), packedAt(s, start, end, 1), packedAt(s, start, end, 2));
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
  const tokens: (string | null)[] = [];
  scanTokens = tokens;
  scanN = 0;
  scanText(text, normalizeLanguage(language));
  if (tokens.length !== scanN) tokens.length = scanN;
  scanTokens = NO_TOKENS;
  return tokens;
}
const NO_TOKENS: (string | null)[] = [];

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
   * For the matcher, as of `internVersion`: the distinct interned stem ids of the article (stems
   * that some topic uses) and their ascending positions `posData[posStart[i] .. posStart[i + 1])`;
   * the interned ids of the tags, section and language keys (-1 for those no topic uses).
   */
  termIds: Int32Array;
  posStart: Int32Array;
  posData: Int32Array;
  fieldIds: Int32Array;
  internVersion: number;
}

// ------------------------------------------------------------------ fields (tags, section, language)

/** A normalised tag or section and its interned-key form (`\u0001tag`, `\u0002section`). */
interface FieldNorm {
  value: string;
  key: string;
}
const FIELD_CACHE_MAX = 100_000;
const tagNorms = new Map<string, FieldNorm>();
const sectionNorms = new Map<string, FieldNorm>();
const langKeys = new Map<string, string>();

function fieldNorm(cache: Map<string, FieldNorm>, raw: string, prefix: string): FieldNorm {
  let f = cache.get(raw);
  if (f === undefined) {
    const value = normalizeTag(raw);
    f = { value, key: prefix + value };
    if (cache.size >= FIELD_CACHE_MAX) cache.clear();
    cache.set(raw, f);
  }
  return f;
}
function langKey(language: string): string {
  let k = langKeys.get(language);
  if (k === undefined) {
    k = `\u0003${language}`;
    if (langKeys.size >= FIELD_CACHE_MAX) langKeys.clear();
    langKeys.set(language, k);
  }
  return k;
}

// ------------------------------------------------------------------ positions

// scratch (single-threaded): per interned id, [generation that saw it, its slot] side by side
let idStamp = new Int32Array(2048);
let scratchGen = 0;
let distinctScratch = new Int32Array(1024);
let countScratch = new Int32Array(1024);
let tokSlot = new Int32Array(4096);

/**
 * Interned ids and positions from `tokens`, tags, section and language (used by the matcher when
 * an article's ids are stale because topics added stems since it was prepared).
 */
export function resolveTerms(a: PreparedArticle): void {
  const tokens = a.tokens;
  const ids = new Int32Array(tokens.length);
  for (let p = 0; p < tokens.length; p++) {
    const t = tokens[p];
    ids[p] = t === null ? -1 : lookupTerm(t);
  }
  const fieldIds: number[] = [];
  for (const t of a.tags) fieldIds.push(lookupTerm(`\u0001${t}`));
  if (a.section !== null) fieldIds.push(lookupTerm(`\u0002${a.section}`));
  fieldIds.push(lookupTerm(langKey(a.language)));
  a.fieldIds = Int32Array.from(fieldIds);
  fillPositions(a, ids, tokens.length);
}

function fillPositions(a: PreparedArticle, ids: Int32Array, n: number): void {
  const nIds = internKeys.length;
  if (idStamp.length < 2 * nIds) {
    let m = idStamp.length;
    while (m < 2 * nIds) m *= 2;
    idStamp = new Int32Array(m);
    scratchGen = 0;
  }
  if (scratchGen >= 0x7ffffff0) {
    idStamp.fill(0);
    scratchGen = 0;
  }
  if (tokSlot.length < n) {
    let m = tokSlot.length;
    while (m < n) m *= 2;
    tokSlot = new Int32Array(m);
    distinctScratch = new Int32Array(m);
    countScratch = new Int32Array(m);
  }
  const gen = ++scratchGen;
  const stamp = idStamp;
  const distinct = distinctScratch;
  const counts = countScratch;
  const ts = tokSlot;
  // pass 1: distinct ids (in order of first occurrence), their counts, each token's slot
  let k = 0;
  for (let p = 0; p < n; p++) {
    const id = ids[p];
    if (id < 0) {
      ts[p] = -1;
      continue;
    }
    const q = id << 1;
    let slot: number;
    if (stamp[q] !== gen) {
      stamp[q] = gen;
      slot = k++;
      stamp[q + 1] = slot;
      distinct[slot] = id;
      counts[slot] = 1;
    } else {
      slot = stamp[q + 1];
      counts[slot]++;
    }
    ts[p] = slot;
  }
  const posStart = new Int32Array(k + 1);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    posStart[i] = sum;
    const c = counts[i];
    counts[i] = sum; // now the fill cursor
    sum += c;
  }
  posStart[k] = sum;
  // pass 2: positions, ascending within each id
  const posData = new Int32Array(sum);
  for (let p = 0; p < n; p++) {
    const slot = ts[p];
    if (slot >= 0) posData[counts[slot]++] = p;
  }
  a.termIds = distinct.slice(0, k);
  a.posStart = posStart;
  a.posData = posData;
  a.internVersion = internVer;
}

const EMPTY_I32 = new Int32Array(0);
const NO_TAGS: readonly string[] = [];

export function prepareArticle(a: ArticleInput): PreparedArticle {
  const language = normalizeLanguage(a.language);
  const tokens: (string | null)[] = [];
  scanTokens = tokens;
  scanN = 0;
  scanText(a.title ?? '', language);
  const titleEnd = scanN;
  push(null, -1); // gap: phrases never span two fields
  scanText(a.summary ?? '', language);
  push(null, -1);
  scanText(a.body ?? '', language);
  if (tokens.length !== scanN) tokens.length = scanN;
  scanTokens = NO_TOKENS;

  const rawTags = a.tags ?? NO_TAGS;
  const tags = new Set<string>();
  const fieldIds = new Int32Array(rawTags.length + 2);
  let nf = 0;
  for (let i = 0; i < rawTags.length; i++) {
    const f = fieldNorm(tagNorms, rawTags[i], '\u0001');
    if (f.value && !tags.has(f.value)) {
      tags.add(f.value);
      fieldIds[nf++] = lookupTerm(f.key);
    }
  }
  let section: string | null = null;
  if (a.section) {
    const f = fieldNorm(sectionNorms, a.section, '\u0002');
    if (f.value) {
      section = f.value;
      fieldIds[nf++] = lookupTerm(f.key);
    }
  }
  fieldIds[nf++] = lookupTerm(langKey(language));
  const out: PreparedArticle = {
    language,
    tokens,
    titleEnd,
    tags,
    section,
    termIds: EMPTY_I32,
    posStart: EMPTY_I32,
    posData: EMPTY_I32,
    fieldIds: nf === fieldIds.length ? fieldIds : fieldIds.slice(0, nf),
    internVersion: -1,
  };
  fillPositions(out, scanIds, scanN);
  return out;
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
