/**
 * Article preparation: an article's title, summary, body and fields turned into what the matcher
 * and the reference evaluator read (interned ids by position, stems on demand), through scanners
 * that split text into words and analyse them with text.ts.
 *
 * Speed: plain ASCII text (and ASCII with news punctuation such as ’ “ ” — …, which is replaced
 * by spaces: see SEPARATOR_CHARS) is split and looked up in WebAssembly (word-scanner.ts, the
 * per-language tables of text.ts `wordTable`). Other non-ASCII text is folded (NFKD) as a whole,
 * then split the same way; only runs with non-ASCII letters go through the Unicode word regex and
 * a Map cache. A prepared article keeps only ids; its stems (`tokens`) and positions are computed
 * when first asked for. Equivalence with the plain definition (foldWords + stop words + stemWord)
 * is a property test in test/unit/matching/text.test.ts.
 */
import { lookupTerm, internVer } from './terms.js';
import { analyzeCache, analyzeWord, ASCII_RE, foldRaw, normalizeLanguage, normalizeTag, WORD_RE, wordTable } from './text.js';
import type { WordTable } from './word-scanner.js';

/** ASCII letters and digits. */
const WORD_CI = new Uint8Array(128);
/** ASCII lower-case letters and digits (folded text: an upper-case letter there is not a word char). */
const WORD_LC = new Uint8Array(128);
for (let c = 48; c <= 57; c++) WORD_CI[c] = WORD_LC[c] = 1;
for (let c = 97; c <= 122; c++) WORD_CI[c] = WORD_LC[c] = 1;
for (let c = 65; c <= 90; c++) WORD_CI[c] = 1;

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
