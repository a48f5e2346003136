/**
 * TopicIndex's options and state (`IndexState`): the data that the compiler
 * (topic-index-compile.ts), the postings builder (topic-index-build.ts) and the matcher
 * (topic-index-match.ts) share, and the typed-array growth they all use.
 *
 * The state is one class whose only concrete subclass is TopicIndex, so every access sees one
 * hidden class and stays monomorphic; its fields are public only so that the sibling modules'
 * functions can take it as their first argument (`s`), and are not part of TopicIndex's API.
 */
import { DEFAULT_MAX_TERMS, type ParseOptions } from './query.js';

/** Default document frequency for an unknown section / language (treated as common). */
const COMMON_DF = 1e9;

export interface TopicIndexOptions extends ParseOptions {
  /** Document frequencies: keys are stems, and `tag:x`, `section:x`, `lang:x`. */
  termFrequencies?: Map<string, number>;
  /** Rebuild when overflow postings + dead entries exceed this fraction of entries (default 0.1). */
  compactFraction?: number;
  /** ... but never below this many (default 10,000). */
  compactMin?: number;
  /** Called for a topic whose query does not parse during `build` (default: throw). */
  onError?: (topicId: number, error: unknown) => void;
}

type Words = Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Float64Array<ArrayBuffer>;

/**
 * `a` when it holds `min` already, else a copy of it at least `min` long, doubling so that
 * appending stays amortised O(1); new slots hold `fill` (default 0). Only called when a length
 * check failed, so never on the per-article path's common case.
 */
function growWords<T extends Words>(a: T, min: number, make: (n: number) => T, fill?: number): T {
  if (a.length >= min) return a;
  let n = Math.max(16, a.length);
  while (n < min) n *= 2;
  const b = make(n);
  b.set(a);
  if (fill !== undefined) b.fill(fill, a.length);
  return b;
}
export const growI32 = (a: Int32Array<ArrayBuffer>, min: number, fill?: number) => growWords(a, min, (n) => new Int32Array(n), fill);
export const growU32 = (a: Uint32Array<ArrayBuffer>, min: number) => growWords(a, min, (n) => new Uint32Array(n));
export const growF64 = (a: Float64Array<ArrayBuffer>, min: number) => growWords(a, min, (n) => new Float64Array(n));
export function growU8(a: Uint8Array<ArrayBuffer>, min: number): Uint8Array<ArrayBuffer> {
  if (a.length >= min) return a;
  const b = new Uint8Array(min);
  b.set(a);
  return b;
}

export abstract class IndexState {
  readonly parseOpts: ParseOptions;
  readonly compactFraction: number;
  readonly compactMin: number;
  df: Map<string, number>;

  // atoms are interned globally (terms.ts internTerm): stems as is, fields with a prefix
  termDf = new Float64Array(1024);
  termDfSet = new Uint8Array(1024); // termDf[id] computed for this index

  // compiled entries
  code = new Int32Array(1024);
  codeLen = 0;
  entryCode = new Int32Array(1024); // start in `code`, -1 = dead
  entryTopic = new Int32Array(1024); // first topic id
  entryExtra = new Map<number, number[]>(); // further topic ids
  entryMulti = new Uint8Array(1024); // 1 when entryExtra has the entry
  entryHash = new Int32Array(1024); // hash of the entry's code
  numEntries = 0;
  liveEntries = 0;
  deadEntries = 0;
  // dedupe table: open addressing over entry code hashes; slot = entry + 1, 0 empty, -1 deleted.
  // Code compiled from canonical trees is equal exactly when the canonical queries are equal.
  table = new Int32Array(1 << 12);
  tableUsed = 0; // live + deleted slots
  lastFresh = false;

  // topics
  topicArr = new Int32Array(0); // topicId -> entry, -1 none
  topicMap = new Map<number, number>(); // ids outside the array range
  numTopics = 0;

  // postings
  csrTerms = 0;
  csrData = new Int32Array(0);
  overflow = new Map<number, number[]>();
  overflowCount = 0;

  // match scratch shared with the builder (rebuild starts generations again)
  gen = 0;
  /**
   * Per term id t, 4 ints side by side, so that matching touches one cache line per term:
   * [4t] the generation (match call) that saw t in the article, [4t + 1] its index among the
   * article's distinct terms times 2, plus 1 when it is in the title (valid in that generation),
   * [4t + 2] where t's postings start in `csrData` and [4t + 3] where its one-term entries end:
   * `csrData[start .. sure)` are entries that are that one term (`OP_HAS t` alone: matched by its
   * presence, no verification, posted nowhere else), `[sure .. next term's start)` the entries to
   * verify. Ids interned since the last rebuild have empty ranges at `csrData.length`.
   */
  terms = new Int32Array(4 * 1024 + 4);
  entryGen = new Uint32Array(1024);

  // scratch of the compiler's plain-word fast path (topic-index-compile.ts fastEntry)
  fastIds = new Int32Array(DEFAULT_MAX_TERMS);
  fastLanguage = '';
  /** Cost of the anchors `anchorsAt` (topic-index-build.ts) just returned. */
  anchorCost = 0;

  constructor(opts: TopicIndexOptions = {}) {
    this.parseOpts = { maxTerms: opts.maxTerms, language: opts.language };
    this.compactFraction = opts.compactFraction ?? 0.1;
    this.compactMin = opts.compactMin ?? 10_000;
    this.df = opts.termFrequencies ?? new Map();
  }
}

/** An unknown tag counts as rare, an unknown section or language as common (see topic-index.ts). */
export function dfOf(s: IndexState, key: string): number {
  switch (key.charCodeAt(0)) {
    case 1:
      return s.df.get(`tag:${key.slice(1)}`) ?? 0;
    case 2:
      return s.df.get(`section:${key.slice(1)}`) ?? COMMON_DF;
    case 3:
      return s.df.get(`lang:${key.slice(1)}`) ?? COMMON_DF;
    default:
      return s.df.get(key) ?? 0;
  }
}
