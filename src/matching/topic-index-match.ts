/**
 * TopicIndex's match and verify: the bytecode's instruction set and its interpreter, and the
 * per-article path (stamp the article's terms, walk their postings, verify candidates, expand
 * entries to topic ids). This side stays methods on the index's own class (the build side is
 * functions over the state): the per-article path keeps one receiver shape and the `this` calls
 * V8 inlines, as it was tuned.
 */
import { resolveTerms, type PreparedArticle } from './article.js';
import { internedCount, internVersion } from './terms.js';
import { growI32, growU32, IndexState } from './topic-index-state.js';

// defined here, beside the interpreter's switch, so that its cases compare with module-local
// constants; the compiler and the postings builder import them
export const OP_HAS = 1; // word, tag, section or language present
export const OP_TITLE = 2; // word present in the title
export const OP_PHRASE = 3;
export const OP_TITLE_PHRASE = 4;
export const OP_AND = 5;
export const OP_OR = 6;
export const OP_NOT = 7;
export const OP_BITS = 3;
export const OP_MASK = 7;

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

export abstract class MatchingIndex extends IndexState {
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
  protected matchCalls = 0;
  protected candidatesVerified = 0;
  protected topicsMatched = 0;

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
}
