/**
 * The percolator: given an article, which topics match?
 *
 * - Topics whose canonical queries (`normalizeQuery`) are equal share one compiled *entry*.
 * - Each entry is compiled from its canonical tree to a small bytecode program in one shared
 *   Int32Array and verified by an interpreter (`evalAt`), the "compiled fast evaluator". Code
 *   compiled from canonical trees is equal exactly when the canonical queries are equal, so the
 *   dedupe table hashes the code (no key strings are kept: ~100 bytes per topic at 1M topics).
 * - Anchors: every entry is posted under a set of atoms such that any matching article contains at
 *   least one of them: for an AND its rarest positive child, for an OR every alternative, for a
 *   phrase its rarest word, never a negation (parseQuery refuses queries without a positive
 *   requirement). Words, tags, sections and languages are interned to integer ids in one id space
 *   (fields are separate partitions). Rarity comes from `setTermFrequencies` (document
 *   frequencies on recent articles); an unknown word or tag counts as rare, an unknown section or
 *   language as common.
 * - Postings live in a CSR (Int32Array offsets + Int32Array entry ids) built after bulk load, with
 *   a small mutable overflow for upserts; removals mark entries dead. When overflow + dead grow
 *   past a threshold the whole structure is rebuilt (compacted).
 * - match(): intern-lookup the article's distinct stems/tags/section/language, stamp them present
 *   (generation-stamped Uint32Arrays), walk their postings, dedupe candidate entries with a
 *   generation-stamped Uint32Array, verify each with the interpreter, expand entries to topic ids.
 *   Rebuilds order entries by their first anchor so one posting list reads memory sequentially.
 * - Stems are interned process-wide (text.ts `internTerm`); a PreparedArticle carries the ids of
 *   its stems as of its preparation and match() re-resolves them (mutating the article) if
 *   topics have added stems since.
 *
 * Not thread-safe; one index per process is the intended use (use `build` at start-up, then
 * `upsert` / `remove` as topics change).
 */
import { canonicalize, DEFAULT_MAX_TERMS, parseQuery, type ParseOptions, type QueryNode } from './query.js';
import {
  internedCount,
  internTerm,
  internVersion,
  lookupTerm,
  normalizeLanguage,
  queryWordId,
  resolveTerms,
  termKey,
  type PreparedArticle,
} from './text.js';

export { toTsQueryPrefilter } from './pg.js';
export { evaluate } from './reference.js';
export { parseQuery, normalizeQuery, QueryError } from './query.js';
export type * from './query.js';
export { prepareArticle, tokenize, foldText, normalizeTag, searchText, frequencyKeys } from './text.js';
export type { PreparedArticle, ArticleInput } from './text.js';

const OP_HAS = 1; // word, tag, section or language present
const OP_TITLE = 2; // word present in the title
const OP_PHRASE = 3;
const OP_TITLE_PHRASE = 4;
const OP_AND = 5;
const OP_OR = 6;
const OP_NOT = 7;
const OP_BITS = 3;
const OP_MASK = 7;

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

export interface TopicIndexStats {
  /** Topics indexed. */
  topics: number;
  /** Distinct compiled queries (live entries). */
  entries: number;
  /** Interned words, tags, sections and languages. */
  terms: number;
  postings: number;
  overflowPostings: number;
  deadEntries: number;
  /** Typed arrays + estimated Map/string overhead. */
  approxBytes: number;
  /** Cumulative since construction: match() calls, candidate entries verified, topics matched. */
  matchCalls: number;
  candidatesVerified: number;
  topicsMatched: number;
}

function growI32(a: Int32Array<ArrayBuffer>, min: number, fill?: number): Int32Array<ArrayBuffer> {
  if (a.length >= min) return a;
  let n = Math.max(16, a.length);
  while (n < min) n *= 2;
  const b = new Int32Array(n);
  b.set(a);
  if (fill !== undefined) b.fill(fill, a.length);
  return b;
}
function growU32(a: Uint32Array<ArrayBuffer>, min: number): Uint32Array<ArrayBuffer> {
  if (a.length >= min) return a;
  let n = Math.max(16, a.length);
  while (n < min) n *= 2;
  const b = new Uint32Array(n);
  b.set(a);
  return b;
}
function growU8(a: Uint8Array<ArrayBuffer>, min: number): Uint8Array<ArrayBuffer> {
  if (a.length >= min) return a;
  const b = new Uint8Array(min);
  b.set(a);
  return b;
}
function growF64(a: Float64Array<ArrayBuffer>, min: number): Float64Array<ArrayBuffer> {
  if (a.length >= min) return a;
  let n = Math.max(16, a.length);
  while (n < min) n *= 2;
  const b = new Float64Array(n);
  b.set(a);
  return b;
}

function hasPos(list: Int32Array, lo: number, hi: number, p: number): boolean {
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = list[mid];
    if (v === p) return true;
    if (v < p) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

const TOPIC_ARRAY_LIMIT = 1 << 24;

/** Order of evaluation inside AND/OR: atoms, then groups, negations last. */
function evalRank(c: QueryNode): number {
  return c.type === 'not' ? 2 : c.type === 'and' || c.type === 'or' ? 1 : 0;
}

/** Topic ids are database ids: integers in [0, 2^31). */
function checkTopicId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw new RangeError(`topic id ${id} is not an integer in [0, 2^31)`);
}

export class TopicIndex {
  private readonly parseOpts: ParseOptions;
  private readonly compactFraction: number;
  private readonly compactMin: number;
  private df: Map<string, number>;

  // atoms are interned globally (text.ts internTerm): stems as is, fields with a prefix
  private termDf = new Float64Array(1024);
  private termDfSet = new Uint8Array(1024); // termDf[id] computed for this index

  // compiled entries
  private code = new Int32Array(1024);
  private codeLen = 0;
  private entryCode = new Int32Array(1024); // start in `code`, -1 = dead
  private entryTopic = new Int32Array(1024); // first topic id
  private entryExtra = new Map<number, number[]>(); // further topic ids
  private entryMulti = new Uint8Array(1024); // 1 when entryExtra has the entry
  private entryHash = new Int32Array(1024); // hash of the entry's code
  private numEntries = 0;
  private liveEntries = 0;
  private deadEntries = 0;
  // dedupe table: open addressing over entry code hashes; slot = entry + 1, 0 empty, -1 deleted.
  // Code compiled from canonical trees is equal exactly when the canonical queries are equal.
  private table = new Int32Array(1 << 12);
  private tableUsed = 0; // live + deleted slots
  private lastFresh = false;

  // topics
  private topicArr = new Int32Array(0); // topicId -> entry, -1 none
  private topicMap = new Map<number, number>(); // ids outside the array range
  private numTopics = 0;

  // postings
  private csrTerms = 0;
  private csrData = new Int32Array(0);
  private overflow = new Map<number, number[]>();
  private overflowCount = 0;

  // match scratch
  private gen = 0;
  /**
   * Per term id t, 4 ints side by side, so that matching touches one cache line per term:
   * [4t] the generation (match call) that saw t in the article, [4t + 1] its index among the
   * article's distinct terms times 2, plus 1 when it is in the title (valid in that generation),
   * [4t + 2] where t's postings start in `csrData` and [4t + 3] where its one-term entries end:
   * `csrData[start .. sure)` are entries that are that one term (`OP_HAS t` alone: matched by its
   * presence, no verification, posted nowhere else), `[sure .. next term's start)` the entries to
   * verify. Ids interned since the last rebuild have empty ranges at `csrData.length`.
   */
  private terms = new Int32Array(4 * 1024 + 4);
  private entryGen = new Uint32Array(1024);
  private present = new Int32Array(1024);
  private out = new Int32Array(1024);
  private titleEnd = 0;
  private article: PreparedArticle | null = null;
  private nDistinct = 0;
  /**
   * Positions of the article's distinct terms, built on the first phrase checked (posReady):
   * `posData[posStart[i] .. posStart[i + 1])` for the term with index i, ascending.
   */
  private posReady = false;
  private posStart = new Int32Array(1024);
  private posData = new Int32Array(4096);

  constructor(opts: TopicIndexOptions = {}) {
    this.parseOpts = { maxTerms: opts.maxTerms, language: opts.language };
    this.compactFraction = opts.compactFraction ?? 0.1;
    this.compactMin = opts.compactMin ?? 10_000;
    this.df = opts.termFrequencies ?? new Map();
  }

  /** Bulk load at start-up: one CSR build at the end. */
  static build(topics: Iterable<{ id: number; query: string | QueryNode }>, opts: TopicIndexOptions = {}): TopicIndex {
    const idx = new TopicIndex(opts);
    for (const t of topics) {
      try {
        checkTopicId(t.id);
        const e = idx.entryForQuery(t.query);
        idx.removeTopic(t.id);
        idx.attach(t.id, e);
      } catch (err) {
        if (opts.onError) opts.onError(t.id, err);
        else throw err;
      }
    }
    idx.rebuild();
    return idx;
  }

  get size(): number {
    return this.numTopics;
  }

  /** Replace the document frequencies used to pick anchors; re-anchors every entry. */
  setTermFrequencies(df: Map<string, number>): void {
    this.df = df;
    const n = internedCount();
    if (this.termDf.length < n) this.termDf = growF64(this.termDf, n);
    this.termDfSet = growU8(this.termDfSet, this.termDf.length);
    for (let id = 0; id < n; id++) {
      this.termDf[id] = this.dfOf(termKey(id));
      this.termDfSet[id] = 1;
    }
    this.rebuild();
  }

  private dfOf(key: string): number {
    switch (key.charCodeAt(0)) {
      case 1:
        return this.df.get(`tag:${key.slice(1)}`) ?? 0;
      case 2:
        return this.df.get(`section:${key.slice(1)}`) ?? COMMON_DF;
      case 3:
        return this.df.get(`lang:${key.slice(1)}`) ?? COMMON_DF;
      default:
        return this.df.get(key) ?? 0;
    }
  }

  /** Add or replace a topic. Throws QueryError for an invalid query (the index is unchanged). */
  upsert(topicId: number, query: string | QueryNode): void {
    checkTopicId(topicId);
    const e = this.entryForQuery(query);
    const old = this.getTopic(topicId);
    const fresh = this.lastFresh;
    if (e === old) return;
    this.removeTopic(topicId);
    this.attach(topicId, e);
    if (fresh) this.postOverflow(e);
    this.maybeCompact();
  }

  /** Remove a topic; returns whether it was there. */
  remove(topicId: number): boolean {
    const had = this.removeTopic(topicId);
    if (had) this.maybeCompact();
    return had;
  }

  has(topicId: number): boolean {
    return this.getTopic(topicId) >= 0;
  }

  stats(): TopicIndexStats {
    let overflowBytes = 0;
    for (const l of this.overflow.values()) overflowBytes += 48 + l.length * 8;
    const keyBytes = this.table.byteLength + this.entryHash.byteLength;
    let extraBytes = 0;
    for (const l of this.entryExtra.values()) extraBytes += 48 + l.length * 8;
    const typed =
      this.code.byteLength +
      this.entryCode.byteLength +
      this.entryTopic.byteLength +
      this.topicArr.byteLength +
      this.csrData.byteLength +
      this.termDf.byteLength +
      this.terms.byteLength +
      this.entryGen.byteLength;
    // the shared interner: count it here (one index per process in practice)
    let termBytes = 0;
    for (let id = 0, n = internedCount(); id < n; id++) termBytes += 16 + ((termKey(id).length + 7) & ~7) + 48;
    return {
      topics: this.numTopics,
      entries: this.liveEntries,
      terms: internedCount(),
      postings: this.csrData.length,
      overflowPostings: this.overflowCount,
      deadEntries: this.deadEntries,
      matchCalls: this.matchCalls,
      candidatesVerified: this.candidatesVerified,
      topicsMatched: this.topicsMatched,
      approxBytes:
        typed + overflowBytes + keyBytes + extraBytes + termBytes + this.topicMap.size * 40,
    };
  }

  /**
   * Ids of the topics whose queries accept the article, each once, in no particular order: the
   * callers store them as a set, and sorting them (about 250 ids an article at 100k topics) cost
   * a sixth of matching.
   */
  match(a: PreparedArticle): number[] {
    const nPresent = this.stamp(a);
    const gen = this.gen;
    const terms = this.terms;
    const csrData = this.csrData;
    const entryGen = this.entryGen;
    const entryCode = this.entryCode;
    const present = this.present;
    let verified = 0;
    this.nOut = 0;
    for (let i = 0; i < nPresent; i++) {
      const t = present[i];
      {
        const q = t << 2;
        let j = terms[q + 2];
        const sure = terms[q + 3];
        verified += sure - j;
        for (; j < sure; j++) {
          const e = csrData[j];
          if (entryCode[e] >= 0) this.expand(e);
        }
        for (const end = terms[q + 6]; j < end; j++) {
          const e = csrData[j];
          if (entryGen[e] !== gen) {
            entryGen[e] = gen;
            verified++;
            const pc = entryCode[e];
            if (pc >= 0 && this.evalAt(pc)) this.expand(e);
          }
        }
      }
      if (this.overflowCount > 0) {
        const extra = this.overflow.get(t);
        if (extra !== undefined) {
          for (let j = 0; j < extra.length; j++) {
            const e = extra[j];
            if (entryGen[e] !== gen) {
              entryGen[e] = gen;
              verified++;
              const pc = entryCode[e];
              if (pc >= 0 && this.evalAt(pc)) this.expand(e);
            }
          }
        }
      }
    }
    this.matchCalls++;
    this.candidatesVerified += verified;
    this.topicsMatched += this.nOut;
    return this.result();
  }

  private nOut = 0;
  private matchCalls = 0;
  private candidatesVerified = 0;
  private topicsMatched = 0;

  private result(): number[] {
    const n = this.nOut;
    const out = this.out;
    const res: number[] = new Array(n);
    for (let i = 0; i < n; i++) res[i] = out[i];
    return res;
  }

  /**
   * Baseline for benchmarks and tests: evaluate every compiled entry with the same interpreter,
   * no postings. Same result as `match`.
   */
  matchByScan(a: PreparedArticle): number[] {
    this.stamp(a);
    this.nOut = 0;
    const entryCode = this.entryCode;
    for (let e = 0; e < this.numEntries; e++) {
      const pc = entryCode[e];
      if (pc >= 0 && this.evalAt(pc)) this.expand(e);
    }
    return this.result();
  }

  // ------------------------------------------------------------------ internals

  private expand(e: number): void {
    const extra = this.entryMulti[e] === 1 ? this.entryExtra.get(e) : undefined;
    const need = this.nOut + 1 + (extra === undefined ? 0 : extra.length);
    if (this.out.length < need) this.out = growI32(this.out, need);
    this.out[this.nOut++] = this.entryTopic[e];
    if (extra !== undefined) for (const t of extra) this.out[this.nOut++] = t;
  }

  /** Stamp the article's atoms present; fills `present` with their ids, returns the count. */
  private stamp(a: PreparedArticle): number {
    if (a.internVersion !== internVersion()) resolveTerms(a);
    const nTerms = internedCount();
    if (this.terms.length < 4 * nTerms + 4) this.growTerms(nTerms);
    if (this.entryGen.length < this.numEntries) this.entryGen = growU32(this.entryGen, this.numEntries);
    if (this.gen >= 0x7ffffff0) {
      this.gen = 0;
      for (let q = 0; q < this.terms.length; q += 4) this.terms[q] = 0;
      this.entryGen.fill(0);
    }
    const gen = ++this.gen;
    const terms = this.terms;
    const ids = a.ids;
    this.article = a;
    this.posReady = false;
    let present = this.present;
    const need = ids.length + a.fieldIds.length;
    if (present.length < need) present = this.present = growI32(present, need);
    const titleEnd = a.titleEnd;
    this.titleEnd = titleEnd;
    // distinct terms, each numbered at its first position (in the title if it is there)
    let n = 0;
    for (let p = 0; p < ids.length; p++) {
      const id = ids[p];
      if (id < 0) continue;
      const q = id << 2;
      if (terms[q] !== gen) {
        terms[q] = gen;
        terms[q + 1] = (n << 1) | (p < titleEnd ? 1 : 0);
        present[n++] = id;
      }
    }
    this.nDistinct = n;
    const fieldIds = a.fieldIds;
    for (let i = 0; i < fieldIds.length; i++) {
      const id = fieldIds[i];
      if (id >= 0) {
        terms[id << 2] = gen;
        terms[(id << 2) + 1] = 0;
        present[n++] = id;
      }
    }
    return n;
  }

  /** Room for term ids up to `nTerms`; the new ones have empty posting ranges. */
  private growTerms(nTerms: number): void {
    const old = this.terms;
    let n = Math.max(1024, (old.length - 4) >> 2);
    while (n < nTerms) n *= 2;
    const terms = new Int32Array(4 * n + 4);
    terms.set(old);
    const end = this.csrData.length;
    for (let q = old.length - 4; q < terms.length; q += 4) {
      if (q >= 4 * this.csrTerms) {
        terms[q + 2] = end;
        terms[q + 3] = end;
      }
    }
    this.terms = terms;
  }

  private evalAt(pc: number): boolean {
    const code = this.code;
    const h = code[pc];
    switch (h & OP_MASK) {
      case OP_HAS:
        return this.terms[code[pc + 1] << 2] === this.gen;
      case OP_TITLE: {
        const q = code[pc + 1] << 2;
        return this.terms[q] === this.gen && (this.terms[q + 1] & 1) === 1;
      }
      case OP_AND: {
        const end = pc + (h >>> OP_BITS);
        for (let p = pc + 1; p < end; p += code[p] >>> OP_BITS) if (!this.evalAt(p)) return false;
        return true;
      }
      case OP_OR: {
        const end = pc + (h >>> OP_BITS);
        for (let p = pc + 1; p < end; p += code[p] >>> OP_BITS) if (this.evalAt(p)) return true;
        return false;
      }
      case OP_NOT:
        return !this.evalAt(pc + 1);
      case OP_PHRASE:
      case OP_TITLE_PHRASE:
        return this.phraseAt(pc, (h & OP_MASK) === OP_TITLE_PHRASE);
      default:
        throw new Error(`corrupt matcher code at ${pc}`);
    }
  }

  private phraseAt(pc: number, title: boolean): boolean {
    const code = this.code;
    const terms = this.terms;
    const gen = this.gen;
    const n = code[pc + 1];
    const base = pc + 2;
    for (let i = 0; i < n; i++) {
      const id = code[base + 2 * i];
      if (terms[id << 2] !== gen) return false;
      if (title && (terms[(id << 2) + 1] & 1) === 0) return false;
    }
    if (!this.posReady) this.buildPositions();
    const posStart = this.posStart;
    const posData = this.posData;
    const s0 = terms[(code[base] << 2) + 1] >> 1;
    const span = code[base + 2 * (n - 1) + 1];
    const limit = title ? this.titleEnd - span : 0x7fffffff;
    outer: for (let k = posStart[s0], kEnd = posStart[s0 + 1]; k < kEnd; k++) {
      const start = posData[k];
      if (start >= limit) return false;
      for (let i = 1; i < n; i++) {
        const slot = terms[(code[base + 2 * i] << 2) + 1] >> 1;
        if (!hasPos(posData, posStart[slot], posStart[slot + 1] - 1, start + code[base + 2 * i + 1])) continue outer;
      }
      return true;
    }
    return false;
  }

  /** Positions of the current article's distinct terms (counting sort of its positions). */
  private buildPositions(): void {
    const ids = (this.article as PreparedArticle).ids;
    const terms = this.terms;
    const k = this.nDistinct;
    if (this.posStart.length < k + 1) this.posStart = growI32(this.posStart, k + 1);
    if (this.posData.length < ids.length) this.posData = growI32(this.posData, ids.length);
    const posStart = this.posStart;
    const posData = this.posData;
    posStart.fill(0, 0, k + 1);
    for (let p = 0; p < ids.length; p++) if (ids[p] >= 0) posStart[(terms[(ids[p] << 2) + 1] >> 1) + 1]++;
    for (let i = 0; i < k; i++) posStart[i + 1] += posStart[i];
    // fill, using posStart[i] as the cursor of term i, then shift back
    for (let p = 0; p < ids.length; p++) if (ids[p] >= 0) posData[posStart[terms[(ids[p] << 2) + 1] >> 1]++] = p;
    for (let i = k; i > 0; i--) posStart[i] = posStart[i - 1];
    posStart[0] = 0;
    this.posReady = true;
  }

  private getTopic(topicId: number): number {
    if (topicId >= 0 && topicId < this.topicArr.length) return this.topicArr[topicId];
    return this.topicMap.get(topicId) ?? -1;
  }

  private setTopic(topicId: number, e: number): void {
    if (Number.isInteger(topicId) && topicId >= 0 && topicId < TOPIC_ARRAY_LIMIT && topicId <= 8 * this.numTopics + (1 << 20)) {
      if (topicId >= this.topicArr.length) this.topicArr = growI32(this.topicArr, topicId + 1, -1);
      this.topicArr[topicId] = e;
      return;
    }
    if (topicId >= 0 && topicId < this.topicArr.length) this.topicArr[topicId] = e;
    else if (e < 0) this.topicMap.delete(topicId);
    else this.topicMap.set(topicId, e);
  }

  private attach(topicId: number, e: number): void {
    if (this.entryCode[e] < 0) throw new Error('attach to a dead entry');
    if (this.entryTopic[e] === -1) this.entryTopic[e] = topicId;
    else {
      const l = this.entryExtra.get(e);
      if (l) l.push(topicId);
      else {
        this.entryExtra.set(e, [topicId]);
        this.entryMulti[e] = 1;
      }
    }
    this.setTopic(topicId, e);
    this.numTopics++;
  }

  private removeTopic(topicId: number): boolean {
    const e = this.getTopic(topicId);
    if (e < 0) return false;
    this.setTopic(topicId, -1);
    this.numTopics--;
    const extra = this.entryExtra.get(e);
    if (this.entryTopic[e] === topicId) {
      if (extra && extra.length > 0) {
        this.entryTopic[e] = extra.pop() as number;
        if (extra.length === 0) {
          this.entryExtra.delete(e);
          this.entryMulti[e] = 0;
        }
      } else this.killEntry(e);
    } else if (extra) {
      const i = extra.indexOf(topicId);
      if (i >= 0) {
        extra[i] = extra[extra.length - 1];
        extra.pop();
      }
      if (extra.length === 0) {
        this.entryExtra.delete(e);
        this.entryMulti[e] = 0;
      }
    }
    return true;
  }

  private killEntry(e: number): void {
    this.entryCode[e] = -1;
    this.entryTopic[e] = -1;
    const mask = this.table.length - 1;
    for (let i = this.entryHash[e] & mask; this.table[i] !== 0; i = (i + 1) & mask) {
      if (this.table[i] === e + 1) {
        this.table[i] = -1;
        break;
      }
    }
    this.liveEntries--;
    this.deadEntries++;
  }

  /** Entry for a query string or tree (parsed, compiled, deduplicated). */
  private entryForQuery(query: string | QueryNode): number {
    if (typeof query === 'string') {
      const e = this.fastEntry(query);
      if (e >= 0) return e;
      return this.entryFor(parseQuery(query, this.parseOpts));
    }
    return this.entryFor(query);
  }

  private entryFor(node: QueryNode): number {
    const canon = canonicalize(node).node;
    const start = this.codeLen;
    this.compileNode(canon);
    return this.dedupe(start);
  }

  private fastIds = new Int32Array(DEFAULT_MAX_TERMS);
  private fastLanguage = '';

  /**
   * Fast path of parse + canonicalize + compile for the commonest queries: plain ASCII words
   * separated by single spaces, optionally joined by `AND` (no other operator, field, quote,
   * parenthesis or sign). Emits exactly the code the general path would (an AND of the distinct
   * stems in canonical order, or one term) and returns the entry, or -1 to take the general path
   * (which also reports every error).
   */
  private fastEntry(q: string): number {
    const n = q.length;
    if (n === 0 || n > 256) return -1;
    if (this.fastLanguage === '') this.fastLanguage = normalizeLanguage(this.parseOpts.language ?? 'en');
    const language = this.fastLanguage;
    const maxTerms = this.parseOpts.maxTerms ?? DEFAULT_MAX_TERMS;
    let ids = this.fastIds;
    let k = 0; // distinct ids
    let leaves = 0;
    let prevAnd = true; // at the start, as after AND: a word must come
    let i = 0;
    for (;;) {
      // one token: [A-Za-z0-9]+
      const start = i;
      while (i < n) {
        const c = q.charCodeAt(i);
        if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90)) i++;
        else break;
      }
      if (i === start) return -1;
      const last = i === n;
      if (!last && q.charCodeAt(i) !== 32) return -1;
      const len = i - start;
      const c0 = q.charCodeAt(start);
      const c1 = q.charCodeAt(start + 1);
      if (len === 3 && c0 === 65 && c1 === 78 && q.charCodeAt(start + 2) === 68) {
        // AND: between two words
        if (prevAnd || last) return -1;
        prevAnd = true;
      } else if ((len === 2 && c0 === 79 && c1 === 82) || (len === 3 && c0 === 78 && c1 === 79 && q.charCodeAt(start + 2) === 84)) {
        return -1; // OR, NOT
      } else {
        prevAnd = false;
        const id = queryWordId(q, start, i, language);
        if (id >= 0) {
          if (++leaves > maxTerms) return -1;
          let dup = false;
          for (let j = 0; j < k; j++) {
            if (ids[j] === id) {
              dup = true;
              break;
            }
          }
          if (!dup) {
            if (k === ids.length) ids = this.fastIds = growI32(ids, k + 1);
            ids[k++] = id;
          }
        }
      }
      if (last) break;
      i++; // the space
    }
    if (k === 0) return -1;
    const start = this.codeLen;
    if (k === 1) {
      this.emit(OP_HAS | (2 << OP_BITS));
      this.emit(this.word(termKey(ids[0]), ids[0]));
      return this.dedupe(start);
    }
    // canonical order: by stem (insertion sort: k is small)
    for (let a = 1; a < k; a++) {
      const id = ids[a];
      const key = termKey(id);
      let b = a - 1;
      while (b >= 0 && termKey(ids[b]) > key) {
        ids[b + 1] = ids[b];
        b--;
      }
      ids[b + 1] = id;
    }
    this.emit(OP_AND | ((1 + 2 * k) << OP_BITS));
    for (let j = 0; j < k; j++) {
      this.emit(OP_HAS | (2 << OP_BITS));
      this.emit(this.word(termKey(ids[j]), ids[j]));
    }
    return this.dedupe(start);
  }

  /** Entry whose code equals the code just compiled at `start` (discarded), or a new entry. */
  private dedupe(start: number): number {
    const len = this.codeLen - start;
    const code = this.code;
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < start + len; i++) h = Math.imul(h ^ code[i], 0x01000193);
    h ^= h >>> 15;
    const table = this.table;
    const mask = table.length - 1;
    let i = h & mask;
    for (let v = table[i]; v !== 0; v = table[(i = (i + 1) & mask)]) {
      if (v < 0) continue;
      const e = v - 1;
      if (this.entryHash[e] !== h) continue;
      const pc = this.entryCode[e];
      if ((code[pc] >>> OP_BITS) !== len) continue;
      let same = true;
      for (let k = 0; k < len; k++) {
        if (code[pc + k] !== code[start + k]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.codeLen = start; // discard the duplicate
        this.lastFresh = false;
        return e;
      }
    }
    this.lastFresh = true;
    return this.newEntry(start, h);
  }

  private intern(key: string): number {
    const id = internTerm(key);
    if (this.termDfSet.length <= id) {
      this.termDf = growF64(this.termDf, id + 1);
      this.termDfSet = growU8(this.termDfSet, this.termDf.length);
    }
    if (this.termDfSet[id] === 0) {
      this.termDf[id] = this.dfOf(key);
      this.termDfSet[id] = 1;
    }
    return id;
  }

  private word(stem: string, id: number | undefined): number {
    // trust a parser-provided id only if it is the stem's (cheap: usually the same string object)
    if (id === undefined || termKey(id) !== stem) return this.intern(stem);
    if (this.termDfSet.length <= id) {
      this.termDf = growF64(this.termDf, id + 1);
      this.termDfSet = growU8(this.termDfSet, this.termDf.length);
    }
    if (this.termDfSet[id] === 0) {
      this.termDf[id] = this.dfOf(stem);
      this.termDfSet[id] = 1;
    }
    return id;
  }

  private emit(v: number): void {
    if (this.codeLen === this.code.length) this.code = growI32(this.code, this.codeLen + 1);
    this.code[this.codeLen++] = v;
  }

  private compileNode(n: QueryNode): void {
    switch (n.type) {
      case 'term':
        this.emit((n.field === 'title' ? OP_TITLE : OP_HAS) | (2 << OP_BITS));
        this.emit(this.word(n.stem, n.termId));
        return;
      case 'phrase': {
        const op = n.field === 'title' ? OP_TITLE_PHRASE : OP_PHRASE;
        this.emit(op | ((2 + 2 * n.stems.length) << OP_BITS));
        this.emit(n.stems.length);
        for (let i = 0; i < n.stems.length; i++) {
          this.emit(this.word(n.stems[i], n.termIds?.[i]));
          this.emit(n.offsets[i]);
        }
        return;
      }
      case 'tag':
        this.emit(OP_HAS | (2 << OP_BITS));
        this.emit(this.intern(`\u0001${n.value}`));
        return;
      case 'section':
        this.emit(OP_HAS | (2 << OP_BITS));
        this.emit(this.intern(`\u0002${n.value}`));
        return;
      case 'lang':
        this.emit(OP_HAS | (2 << OP_BITS));
        this.emit(this.intern(`\u0003${n.value}`));
        return;
      case 'and':
      case 'or':
      case 'not': {
        const start = this.codeLen;
        this.emit(0);
        if (n.type === 'not') this.compileNode(n.child);
        else {
          // cheap checks first: atoms, then groups, negations last
          for (let r = 0; r <= 2; r++) for (const c of n.children) if (evalRank(c) === r) this.compileNode(c);
        }
        const op = n.type === 'and' ? OP_AND : n.type === 'or' ? OP_OR : OP_NOT;
        this.code[start] = op | ((this.codeLen - start) << OP_BITS);
        return;
      }
    }
  }

  private newEntry(pc: number, h: number): number {
    const e = this.numEntries++;
    if (this.entryCode.length <= e) {
      this.entryCode = growI32(this.entryCode, e + 1);
      this.entryTopic = growI32(this.entryTopic, e + 1);
      this.entryHash = growI32(this.entryHash, e + 1);
      this.entryMulti = growU8(this.entryMulti, this.entryCode.length);
    }
    this.entryMulti[e] = 0;
    this.entryCode[e] = pc;
    this.entryTopic[e] = -1;
    this.entryHash[e] = h;
    this.liveEntries++;
    if ((this.tableUsed + 1) * 2 > this.table.length) this.rehash(this.liveEntries * 4);
    this.tableInsert(e);
    return e;
  }

  private tableInsert(e: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let i = this.entryHash[e] & mask;
    while (table[i] > 0) i = (i + 1) & mask;
    if (table[i] === 0) this.tableUsed++;
    table[i] = e + 1;
  }

  /** New dedupe table for the live entries, at least `min` slots. */
  private rehash(min: number): void {
    let n = 1 << 12;
    while (n < min) n *= 2;
    this.table = new Int32Array(n);
    this.tableUsed = 0;
    for (let e = 0; e < this.numEntries; e++) if (this.entryCode[e] >= 0) this.tableInsert(e);
  }

  /**
   * Anchor atoms of the program at `pc` into `out` (starting at `n`); returns the new count, or
   * -1 when the node has no positive requirement. `this.anchorCost` receives the cost.
   */
  private anchorCost = 0;
  private anchorsAt(pc: number, out: number[], n: number): number {
    const code = this.code;
    const h = code[pc];
    switch (h & OP_MASK) {
      case OP_HAS:
      case OP_TITLE: {
        const id = code[pc + 1];
        out[n] = id;
        this.anchorCost = this.termDf[id] + 1;
        return n + 1;
      }
      case OP_PHRASE:
      case OP_TITLE_PHRASE: {
        const k = code[pc + 1];
        let best = code[pc + 2];
        for (let i = 1; i < k; i++) {
          const id = code[pc + 2 + 2 * i];
          if (this.termDf[id] < this.termDf[best]) best = id;
        }
        out[n] = best;
        this.anchorCost = this.termDf[best] + 1;
        return n + 1;
      }
      case OP_NOT:
        return -1;
      case OP_AND: {
        const end = pc + (h >>> OP_BITS);
        let bestPc = -1;
        let bestCost = Infinity;
        const scratch: number[] = [];
        for (let p = pc + 1; p < end; p += code[p] >>> OP_BITS) {
          if ((code[p] & OP_MASK) === OP_NOT) continue;
          const m = this.anchorsAt(p, scratch, 0);
          if (m >= 0 && this.anchorCost < bestCost) {
            bestCost = this.anchorCost;
            bestPc = p;
          }
        }
        if (bestPc < 0) return -1;
        const r = this.anchorsAt(bestPc, out, n);
        this.anchorCost = bestCost;
        return r;
      }
      case OP_OR: {
        const end = pc + (h >>> OP_BITS);
        let cost = 0;
        for (let p = pc + 1; p < end; p += code[p] >>> OP_BITS) {
          n = this.anchorsAt(p, out, n);
          if (n < 0) return -1;
          cost += this.anchorCost;
        }
        this.anchorCost = cost;
        return n;
      }
      default:
        throw new Error(`corrupt matcher code at ${pc}`);
    }
  }

  private entryAnchors(e: number, out: number[]): number {
    const n = this.anchorsAt(this.entryCode[e], out, 0);
    if (n < 0) throw new Error('query without a positive requirement cannot be indexed');
    // dedupe (n is small)
    let m = 0;
    outer: for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) if (out[j] === out[i]) continue outer;
      out[m++] = out[i];
    }
    return m;
  }

  private postOverflow(e: number): void {
    const anchors: number[] = [];
    const n = this.entryAnchors(e, anchors);
    for (let i = 0; i < n; i++) {
      const l = this.overflow.get(anchors[i]);
      if (l) l.push(e);
      else this.overflow.set(anchors[i], [e]);
      this.overflowCount++;
    }
  }

  private maybeCompact(): void {
    const limit = Math.max(this.compactMin, this.compactFraction * this.liveEntries);
    if (this.overflowCount + this.deadEntries > limit) this.rebuild();
  }

  /** Drop dead entries, renumber, recompute anchors and rebuild the CSR postings. */
  private rebuild(): void {
    // 1. anchors of the live entries (old numbering)
    const oldCode = this.code;
    const oldEntryCode = this.entryCode;
    const oldNum = this.numEntries;
    const live = this.liveEntries;
    const nt = internedCount();
    if (this.termDf.length < nt) this.termDf = growF64(this.termDf, nt);
    const liveOld = new Int32Array(live);
    const anchorStart = new Int32Array(live + 1);
    let anchorBuf = new Int32Array(Math.max(16, live * 2));
    const scratch: number[] = [];
    let total = 0;
    let k = 0;
    for (let e = 0; e < oldNum; e++) {
      if (oldEntryCode[e] < 0) continue;
      const m = this.entryAnchors(e, scratch);
      if (total + m > anchorBuf.length) anchorBuf = growI32(anchorBuf, total + m);
      for (let i = 0; i < m; i++) anchorBuf[total++] = scratch[i];
      liveOld[k++] = e;
      anchorStart[k] = total;
    }

    // 2. order entries by their first anchor (counting sort), so the entries of one posting
    //    list are contiguous in memory: match() then reads entry and code arrays sequentially
    const byAnchor = new Int32Array(nt + 1);
    for (let j = 0; j < live; j++) byAnchor[anchorBuf[anchorStart[j]] + 1]++;
    for (let t = 0; t < nt; t++) byAnchor[t + 1] += byAnchor[t];
    const order = new Int32Array(live); // new entry -> index into liveOld
    for (let j = 0; j < live; j++) order[byAnchor[anchorBuf[anchorStart[j]]]++] = j;

    // 3. compact entries and code in that order
    const remap = new Int32Array(oldNum).fill(-1);
    const code = new Int32Array(Math.max(16, this.codeLen));
    const entryCode = new Int32Array(Math.max(16, live));
    const entryTopic = new Int32Array(Math.max(16, live));
    const entryHash = new Int32Array(Math.max(16, live));
    const entryExtra = new Map<number, number[]>();
    let len = 0;
    for (let ne = 0; ne < live; ne++) {
      const e = liveOld[order[ne]];
      const pc = oldEntryCode[e];
      const size = oldCode[pc] >>> OP_BITS;
      for (let q = 0; q < size; q++) code[len + q] = oldCode[pc + q];
      entryCode[ne] = len;
      entryTopic[ne] = this.entryTopic[e];
      entryHash[ne] = this.entryHash[e];
      remap[e] = ne;
      len += size;
    }
    const entryMulti = new Uint8Array(Math.max(16, live));
    for (const [e, extra] of this.entryExtra) {
      entryExtra.set(remap[e], extra);
      entryMulti[remap[e]] = 1;
    }
    this.entryMulti = entryMulti;
    this.code = code;
    this.codeLen = len;
    this.entryCode = entryCode;
    this.entryTopic = entryTopic;
    this.entryHash = entryHash;
    this.entryExtra = entryExtra;
    this.numEntries = live;
    this.liveEntries = live;
    this.deadEntries = 0;
    this.rehash(live * 4);
    const ta = this.topicArr;
    for (let i = 0; i < ta.length; i++) if (ta[i] >= 0) ta[i] = remap[ta[i]];
    for (const [t, e] of this.topicMap) this.topicMap.set(t, remap[e]);
    this.entryGen = new Uint32Array(Math.max(16, live));
    this.gen = 0;

    // 4. CSR postings (count, prefix sums, fill): per term, its one-term entries first
    const counts = new Int32Array(nt + 1);
    for (let j = 0; j < total; j++) counts[anchorBuf[j] + 1]++;
    for (let t = 0; t < nt; t++) counts[t + 1] += counts[t];
    const terms = new Int32Array(Math.max(this.terms.length, 4 * nt + 4));
    for (let t = 0; t <= nt; t++) terms[(t << 2) + 2] = counts[t];
    for (let q = 4 * nt; q < terms.length; q += 4) terms[q + 2] = terms[q + 3] = total;
    const fill = counts; // reuse as cursor
    const csrData = new Int32Array(total);
    for (let ne = 0; ne < live; ne++) {
      const pc = entryCode[ne];
      if (code[pc] === (OP_HAS | (2 << OP_BITS))) csrData[fill[code[pc + 1]]++] = ne;
    }
    for (let t = 0; t < nt; t++) terms[(t << 2) + 3] = fill[t];
    for (let ne = 0; ne < live; ne++) {
      const pc = entryCode[ne];
      if (code[pc] === (OP_HAS | (2 << OP_BITS))) continue;
      const j0 = order[ne];
      for (let j = anchorStart[j0]; j < anchorStart[j0 + 1]; j++) csrData[fill[anchorBuf[j]]++] = ne;
    }
    this.terms = terms; // generations start again from 0 (this.gen was reset above)
    this.csrData = csrData;
    this.csrTerms = nt;
    this.overflow = new Map();
    this.overflowCount = 0;
  }
}
