/**
 * Per-language word tables in WebAssembly memory (the module: assembly/words.ts, compiled to
 * words.wasm beside this file by `npm run build:wasm`). A table maps a plain ASCII word (letters
 * and digits, any case) to its analysis: its stem (or null for a stop word) and the stem's
 * interned id, so each distinct word is lower-cased, stop-checked and stemmed once per process.
 *
 * `scan` splits a whole ASCII text and looks every word up inside WebAssembly (SIMD); the words
 * it does not know, or whose "no topic uses this stem" answer is older than the interner's
 * version, come back as misses, resolved here (stemming, interning lookups) and added to the
 * table. Tables are bounded: cleared past `maxWords` entries.
 *
 * Memory: regions are bump-allocated from the module's one linear memory, which only grows; a
 * region outgrown (a table doubled, a longer text) is not reused, so at most about as much again
 * as the live regions is left unused.
 */
import { readFileSync } from 'node:fs';

interface Exports {
  memory: WebAssembly.Memory;
  misses(): number;
  scan(
    text: number,
    n: number,
    out: number,
    miss: number,
    keys: number,
    slots: number,
    mask: number,
    pool: number,
    woff: number,
    curVer: number,
    mode: number,
  ): number;
  find(p: number, len: number, slots: number, mask: number, pool: number, woff: number): number;
  add(p: number, len: number, entry: number, id: number, ver: number, slots: number, mask: number, pool: number, poolAt: number): number;
  rehash(from: number, fromMask: number, to: number, toMask: number, pool: number, woff: number): void;
}

const wasm = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(new URL('./words.wasm', import.meta.url))), {})
  .exports as unknown as Exports;
const memory = wasm.memory;

let u8 = new Uint8Array(memory.buffer);
let i32 = new Int32Array(memory.buffer);

/** First byte JS may use (the module's own data, if any, lives below). */
let top = 65536;

/** `bytes` of fresh (zeroed) memory, 16-byte aligned. */
function alloc(bytes: number): number {
  const p = (top + 15) & ~15;
  top = p + bytes;
  if (top > memory.buffer.byteLength) {
    memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
    u8 = new Uint8Array(memory.buffer);
    i32 = new Int32Array(memory.buffer);
    textView = null;
  }
  return p;
}

// scratch shared by all tables (single-threaded): the text, one int per word, three per miss,
// 32 bytes of key per word
const PAD = 16; // zero bytes after a text: the module reads whole 16-byte blocks and words
let textCap = 0;
let textAt = 0;
let outAt = 0;
let missAt = 0;
let keysAt = 0;
/** The text region as a view (made again after the memory grows: growing detaches views). */
let textView: Uint8Array | null = null;
function ensureText(n: number): void {
  if (n + PAD <= textCap) return;
  let cap = Math.max(1 << 14, textCap);
  while (cap < n + PAD) cap *= 2;
  const words = (cap >> 1) + 1; // a word and its separator take at least two chars
  textAt = alloc(cap);
  outAt = alloc(4 * words);
  missAt = alloc(12 * words);
  keysAt = alloc(32 * words);
  textCap = cap;
  textView = null;
}
ensureText(0);

const utf8 = new TextEncoder();

/** What resolving a word needs from its language. */
export interface WordAnalyser {
  /** The stem of a lower-cased word, or null for a stop word. */
  analyse(word: string): string | null;
  /** Interned id of a stem, or -1 when no topic uses it. */
  lookup(stem: string): number;
  /** Current interner version: a -1 answer recorded under an older one is looked up again. */
  version(): number;
}

export class WordTable {
  private mask = (1 << 14) - 1;
  private slots = alloc(32 << 14);
  private entryCap = 1 << 13;
  private woff = alloc(4 << 13);
  private poolCap = 1 << 16;
  private pool = alloc(1 << 16);
  private poolLen = 0;
  /** Per entry: the stem, or null for a stop word. */
  private readonly stems: (string | null)[] = [];
  private count = 0;

  constructor(
    private readonly analyser: WordAnalyser,
    private readonly maxWords: number,
  ) {}

  /**
   * Splits `s` into words if it is plain ASCII: with `stemsOut` null, writes each word's interned
   * id (-1 for a stop word or a stem no topic uses) to `dst` from `at`; otherwise writes each
   * word's stem (null for a stop word) to `stemsOut` from `at`. Returns the number of words, or
   * -1 (having written nothing) when `s` has a non-ASCII char.
   */
  scan(s: string, dst: Int32Array, at: number, stemsOut: (string | null)[] | null): number {
    const n = s.length;
    ensureText(n);
    if (textView === null) textView = u8.subarray(textAt, textAt + textCap - PAD);
    const r = utf8.encodeInto(s, textView);
    if (r.read !== n || r.written !== n) return -1;
    u8.fill(0, textAt + n, textAt + n + PAD);
    const words = (n + 1) >> 1;
    // clear before a text that could overflow the table, never while resolving it: entries
    // written to `out` must stay valid until they are read
    if (this.count + words > this.maxWords) this.reset();
    const mode = stemsOut === null ? 0 : 1;
    const curVer = this.analyser.version();
    const nw = wasm.scan(textAt, n, outAt, missAt, keysAt, this.slots, this.mask, this.pool, this.woff, curVer, mode);
    const nm = wasm.misses();
    const out = outAt >> 2;
    if (nm > 0) {
      const m0 = missAt >> 2;
      for (let k = 0; k < nm; k++) {
        const start = i32[m0 + 3 * k + 1];
        const b = this.resolve(s, start, textAt + start, i32[m0 + 3 * k + 2] - start);
        i32[out + i32[m0 + 3 * k]] = mode === 1 ? i32[b >> 2] - 1 : Math.max(-1, i32[(b >> 2) + 2]);
      }
    }
    if (stemsOut === null) dst.set(i32.subarray(out, out + nw), at);
    else {
      const stems = this.stems;
      for (let j = 0; j < nw; j++) stemsOut[at + j] = stems[i32[out + j]];
    }
    return nw;
  }

  /**
   * The word `s[start, end)` (plain ASCII letters and digits): its slot's byte offset, after
   * adding it or refreshing a stale "no topic" answer.
   */
  word(s: string, start: number, end: number): number {
    const len = end - start;
    const p = this.wordScratch(len);
    // no zeroing past the end: the wasm side masks a word's bytes by its length
    for (let k = 0; k < len; k++) u8[p + k] = s.charCodeAt(start + k);
    if (this.count + 1 > this.maxWords) this.reset();
    return this.resolve(s, start, p, len);
  }

  /** Interned id of the word at slot offset `b`: >= 0, -1 when no topic uses its stem, -2 stop word. */
  id(b: number): number {
    return i32[(b >> 2) + 2];
  }
  /** Records the interned id of the word at slot offset `b` (its stem was just interned). */
  setId(b: number, id: number): void {
    i32[(b >> 2) + 2] = id;
  }
  /** Stem of the word at slot offset `b`, or null for a stop word. */
  stem(b: number): string | null {
    return this.stems[i32[b >> 2] - 1];
  }

  /** Slot of the word `src[start, start + len)` (its bytes at `p`), added or refreshed. */
  private resolve(src: string, start: number, p: number, len: number): number {
    const b = wasm.find(p, len, this.slots, this.mask, this.pool, this.woff);
    if (b < 0) return this.add(src, start, p, len);
    const v = this.analyser.version();
    if (i32[(b >> 2) + 2] === -1 && i32[(b >> 2) + 3] !== v) {
      // ids are never un-interned: only a word without one may have gained one since
      i32[(b >> 2) + 2] = this.analyser.lookup(this.stems[i32[b >> 2] - 1] as string);
      i32[(b >> 2) + 3] = v;
    }
    return b;
  }

  private add(src: string, start: number, p: number, len: number): number {
    if ((this.count + 1) * 2 > this.mask) this.grow();
    const e = this.count;
    if (e >= this.entryCap) this.growEntries();
    let poolAt = 0;
    if (len > 16) {
      if (this.poolLen + len > this.poolCap) this.growPool(len);
      poolAt = this.poolLen;
      this.poolLen += len - 16;
      i32[(this.woff >> 2) + e] = poolAt;
    }
    let w = src.slice(start, start + len);
    for (let k = 0; k < len; k++) {
      const c = w.charCodeAt(k);
      if (c >= 65 && c <= 90) {
        w = w.toLowerCase();
        break;
      }
    }
    const stem = this.analyser.analyse(w);
    this.stems[e] = stem;
    this.count++;
    const id = stem === null ? -2 : this.analyser.lookup(stem);
    return wasm.add(p, len, e, id, this.analyser.version(), this.slots, this.mask, this.pool, poolAt);
  }

  private grow(): void {
    const mask = this.mask * 2 + 1;
    const slots = alloc(32 * (mask + 1));
    wasm.rehash(this.slots, this.mask, slots, mask, this.pool, this.woff);
    this.slots = slots;
    this.mask = mask;
  }

  private growEntries(): void {
    const cap = this.entryCap * 2;
    const woff = alloc(4 * cap);
    u8.copyWithin(woff, this.woff, this.woff + 4 * this.entryCap);
    this.woff = woff;
    this.entryCap = cap;
  }

  private growPool(len: number): void {
    const cap = Math.max(2 * this.poolCap, this.poolLen + len);
    const pool = alloc(cap);
    u8.copyWithin(pool, this.pool, this.pool + this.poolLen);
    this.pool = pool;
    this.poolCap = cap;
  }

  private reset(): void {
    u8.fill(0, this.slots, this.slots + 32 * (this.mask + 1));
    this.stems.length = 0;
    this.count = 0;
    this.poolLen = 0;
  }

  private scratchAt = 0;
  private scratchCap = 0;
  private wordScratch(len: number): number {
    if (len + PAD > this.scratchCap) {
      this.scratchCap = Math.max(256, 2 * (len + PAD));
      this.scratchAt = alloc(this.scratchCap);
    }
    return this.scratchAt;
  }

  /** Entries (distinct words) held. */
  get size(): number {
    return this.count;
  }
}
