import { BINS, containment, jaccard, type Signature } from './signature.js';

// The signatures of the recent articles, in memory, with an LSH index for sub-linear lookup:
// 24 bands of 2 bins each. Two texts with Jaccard similarity J share at least one band with
// probability 1-(1-J²)^24: 90% at 0.3, 99.7% at 0.5, while unrelated texts (J near 0) almost
// never do, so a lookup verifies a handful of candidates instead of every stored signature.
// Typed arrays throughout (a signature is 128 bytes, a band entry 12): a million stored
// articles take about 420 MB, a week of a large publisher's feeds a few tens.

export const BANDS = 24;
const ROWS = 2;

export interface StoredSignature {
  articleId: number;
  storyId: number;
  publishedAt: Date;
  signature: Signature;
}

export interface StoryMatch {
  articleId: number;
  storyId: number;
  /** Estimated containment of the smaller text in the larger, 0..1. */
  similarity: number;
}

function bandKey(mins: Uint32Array, band: number): number {
  let h = Math.imul(mins[band * ROWS]! ^ (band << 26), 0x9e3779b1) ^ mins[band * ROWS + 1]!;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

export class StoryIndex {
  private size = 0;
  private articleIds = new Float64Array(1024);
  private storyIds = new Float64Array(1024);
  private times = new Float64Array(1024);
  private shingles = new Int32Array(1024);
  private bins = new Uint16Array(1024 * BINS);
  // Band entries: entry e = slot * BANDS + band; chained per hash-table bucket.
  private keys = new Uint32Array(1024 * BANDS);
  private next = new Int32Array(1024 * BANDS);
  private heads = new Int32Array(1 << 16).fill(-1);
  private slotOf = new Map<number, number>();
  // Candidates seen in the current lookup (stamp per slot, so no clearing between lookups).
  private stamp = new Uint32Array(1024);
  private lookupNo = 0;

  get count(): number {
    return this.size;
  }

  has(articleId: number): boolean {
    return this.slotOf.has(articleId);
  }

  /** Approximate memory held, for the benchmark's figures. */
  bytes(): number {
    return this.articleIds.byteLength * 3 + this.shingles.byteLength + this.bins.byteLength + this.keys.byteLength + this.next.byteLength + this.heads.byteLength + this.stamp.byteLength;
  }

  /** Adds a stored article (a second add of the same article changes nothing). */
  add(s: StoredSignature): void {
    if (this.slotOf.has(s.articleId)) return;
    if (this.size === this.articleIds.length) this.grow();
    const slot = this.size++;
    this.slotOf.set(s.articleId, slot);
    this.articleIds[slot] = s.articleId;
    this.storyIds[slot] = s.storyId;
    this.times[slot] = s.publishedAt.getTime();
    this.shingles[slot] = s.signature.shingles;
    this.bins.set(s.signature.bins, slot * BINS);
    if (this.size * BANDS > this.heads.length) this.rehash(this.heads.length * 2, (this.size - 1) * BANDS);
    for (let b = 0; b < BANDS; b++) this.link(slot * BANDS + b, bandKey(s.signature.mins, b));
  }

  private link(entry: number, key: number): void {
    this.keys[entry] = key;
    const bucket = key & (this.heads.length - 1);
    this.next[entry] = this.heads[bucket]!;
    this.heads[bucket] = entry;
  }

  /**
   * The stored article most similar to `sig` whose similarity reaches `threshold`, among those
   * published within `windowMs` of `at`; undefined when there is none. Ties go to the earlier.
   */
  best(sig: Signature, threshold: number, at: Date, windowMs: number): StoryMatch | undefined {
    const all = this.candidates(sig, at, windowMs);
    let best: StoryMatch | undefined;
    for (const c of all) {
      if (c.similarity < threshold) continue;
      if (!best || c.similarity > best.similarity || (c.similarity === best.similarity && c.articleId < best.articleId)) best = c;
    }
    return best;
  }

  /** Every stored article within the window sharing a band with `sig`, with its similarity. */
  candidates(sig: Signature, at: Date, windowMs: number): StoryMatch[] {
    const now = at.getTime();
    const no = ++this.lookupNo;
    if (no === 0xffffffff) {
      this.stamp.fill(0);
      this.lookupNo = 1;
    }
    const out: StoryMatch[] = [];
    const mask = this.heads.length - 1;
    for (let b = 0; b < BANDS; b++) {
      const key = bandKey(sig.mins, b);
      for (let e = this.heads[key & mask]!; e !== -1; e = this.next[e]!) {
        if (this.keys[e] !== key) continue;
        const slot = (e / BANDS) | 0;
        if (this.stamp[slot] === this.lookupNo) continue;
        this.stamp[slot] = this.lookupNo;
        if (Math.abs(this.times[slot]! - now) > windowMs) continue;
        const j = jaccard(sig.bins, 0, this.bins, slot * BINS);
        out.push({ articleId: this.articleIds[slot]!, storyId: this.storyIds[slot]!, similarity: containment(j, sig.shingles, this.shingles[slot]!) });
      }
    }
    return out;
  }

  /**
   * Drops the articles published before `cutoff` (outside every window from now on), moving the
   * rest down in place and re-linking their band keys; returns how many went. Linear in what
   * is stored: run now and then, not per lookup.
   */
  prune(cutoff: Date): number {
    const min = cutoff.getTime();
    let to = 0;
    for (let from = 0; from < this.size; from++) {
      if (this.times[from]! < min) {
        this.slotOf.delete(this.articleIds[from]!);
        continue;
      }
      if (to !== from) {
        this.articleIds[to] = this.articleIds[from]!;
        this.storyIds[to] = this.storyIds[from]!;
        this.times[to] = this.times[from]!;
        this.shingles[to] = this.shingles[from]!;
        this.bins.copyWithin(to * BINS, from * BINS, (from + 1) * BINS);
        this.keys.copyWithin(to * BANDS, from * BANDS, (from + 1) * BANDS);
        this.slotOf.set(this.articleIds[to]!, to);
      }
      to++;
    }
    const dropped = this.size - to;
    this.size = to;
    if (dropped > 0) this.rehash(this.heads.length, this.size * BANDS);
    return dropped;
  }

  private grow(): void {
    const cap = this.articleIds.length * 2;
    const widen = <T extends Float64Array | Int32Array | Uint32Array | Uint16Array>(a: T, n: number, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.articleIds = widen(this.articleIds, cap, (n) => new Float64Array(n));
    this.storyIds = widen(this.storyIds, cap, (n) => new Float64Array(n));
    this.times = widen(this.times, cap, (n) => new Float64Array(n));
    this.shingles = widen(this.shingles, cap, (n) => new Int32Array(n));
    this.stamp = widen(this.stamp, cap, (n) => new Uint32Array(n));
    this.bins = widen(this.bins, cap * BINS, (n) => new Uint16Array(n));
    this.keys = widen(this.keys, cap * BANDS, (n) => new Uint32Array(n));
    this.next = widen(this.next, cap * BANDS, (n) => new Int32Array(n));
  }

  /** Rebuilds the bucket chains of the first `entries` band entries over `buckets` buckets. */
  private rehash(buckets: number, entries: number): void {
    this.heads = new Int32Array(buckets).fill(-1);
    for (let e = 0; e < entries; e++) {
      const bucket = this.keys[e]! & (buckets - 1);
      this.next[e] = this.heads[bucket]!;
      this.heads[bucket] = e;
    }
  }
}
