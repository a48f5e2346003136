/**
 * The word table behind src/matching/word-scanner.ts (used by text.ts and article.ts), in
 * WebAssembly (AssemblyScript; `npm run build:wasm` compiles it to src/matching/words.wasm, which
 * is committed; a unit test checks that the committed file is what this source compiles to).
 *
 * Why: splitting plain ASCII text into words and looking each word up is most of the cost of
 * matching an article; in JS it ran at ~120 ns a word (a data-dependent branch per char, a
 * charCodeAt per char), here ~20 ns: 16 chars are classified at once with SIMD, word boundaries
 * come from the resulting bit mask, and a word is read as two 8-byte loads.
 *
 * The JS side owns the memory layout and passes every region in; this module keeps no state.
 *
 * A table slot is 32 bytes, so a lookup reads one cache line:
 *   +0  entry + 1 (0: empty slot)        +4  word length
 *   +8  interned stem id: >= 0; -1 no topic uses the stem (as of the version at +12); -2 stop word
 *   +12 interner version of a -1 answer  +16 chars 0-7, +24 chars 8-15 (lower-cased, 0 past the end)
 * Chars past the 16th are kept in `pool` from `woff[entry]`.
 */

// ------------------------------------------------------------------ word keys

const LOWER: i64 = 0x2020202020202020;

// A word of `len` ASCII letters/digits at `p` (at least 16 readable bytes past its end) is keyed
// by its chars 0-7 and 8-15, lower-cased (`| 0x20` leaves digits as they are) and zeroed past its
// end, with masks rather than branches (word lengths are unpredictable), and by its hash.

@inline
function chars0(p: usize, len: i32): i64 {
  return (load<i64>(p) | LOWER) & select<i64>(-1, (<i64>1 << (<i64>len << 3)) - 1, len >= 8);
}

@inline
function chars1(p: usize, len: i32): i64 {
  return (load<i64>(p, 8) | LOWER) & select<i64>(-1, select<i64>((<i64>1 << ((<i64>len << 3) - 64)) - 1, 0, len > 8), len >= 16);
}

/** Hash of a word: its first 16 chars, length and (at `tail`, case-folded with `| 0x20`) the rest. */
@inline
function hash(c0: i64, c1: i64, len: i32, tail: usize): i32 {
  let h = (c0 ^ (c1 * 0x9e3779b97f4a7c15) ^ <i64>len) * 0xff51afd7ed558ccd;
  // long words hash their tail too: words sharing 16 chars must not share one probe chain
  if (len > 16) h = tailHash(h, len, tail);
  return <i32>(h >>> 32);
}

function tailHash(h: i64, len: i32, tail: usize): i64 {
  for (let i = 16; i < len; i++) h = (h ^ <i64>(load<u8>(tail + <usize>(i - 16)) | 0x20)) * 0x100000001b3;
  return h;
}

/** Byte offset of the slot of the word at `p` (keyed `c0`, `c1`, `h`), or -1 if absent. */
@inline
function probe(c0: i64, c1: i64, h: i32, p: usize, len: i32, slots: usize, mask: i32, pool: usize, woff: usize): isize {
  let s = h & mask;
  while (true) {
    const b = slots + (<usize>s << 5);
    const v = load<i32>(b);
    if (v == 0) return -1;
    if (load<i64>(b, 16) == c0 && load<i64>(b, 24) == c1 && load<i32>(b, 4) == len) {
      if (len <= 16 || tailEquals(p, len, pool + <usize>load<i32>(woff + (<usize>(v - 1) << 2)))) return <isize>b;
    }
    s = (s + 1) & mask;
  }
}

function tailEquals(p: usize, len: i32, t: usize): bool {
  for (let i = 16; i < len; i++) {
    if ((load<u8>(p + <usize>i) | 0x20) != load<u8>(t + <usize>(i - 16))) return false;
  }
  return true;
}

// ------------------------------------------------------------------ scanning

/** Bit i set when byte i of the block is an ASCII letter or digit. */
@inline
function wordBits(v: v128): i32 {
  const l = v128.or(v, i8x16.splat(0x20));
  const letter = v128.and(i8x16.ge_u(l, i8x16.splat(0x61)), i8x16.le_u(l, i8x16.splat(0x7a)));
  const digit = v128.and(i8x16.ge_u(v, i8x16.splat(0x30)), i8x16.le_u(v, i8x16.splat(0x39)));
  return i8x16.bitmask(v128.or(letter, digit));
}

let nMiss: i32 = 0;
/** Sink for scan's touching pass (so that its loads are not optimised away). */
let touched: i32 = 0;

/** Misses recorded by the last `scan`: 3 ints each (word index, start, end). */
export function misses(): i32 {
  return nMiss;
}

/**
 * Splits the `n` ASCII bytes at `text` (followed by at least 16 zero bytes) into words (maximal
 * runs of letters and digits) and writes one int per word to `out`: with `mode` 0 its interned id
 * (-1 for a stop word or a stem no topic uses), with `mode` 1 its table entry. A word that is not
 * in the table, or (mode 0) whose "no topic" answer is older than `curVer`, is written as -1 and
 * recorded at `miss` for the caller to resolve. Returns the number of words.
 */
export function scan(
  text: usize,
  n: i32,
  out: usize,
  miss: usize,
  keys: usize,
  slots: usize,
  mask: i32,
  pool: usize,
  woff: usize,
  curVer: i32,
  mode: i32,
): i32 {
  // Three passes: (1) find the words and key them into `keys` (32 bytes a word: chars 0-7,
  // 8-15, hash, start, length); (2) read each word's first slot: independent loads, so the misses
  // of rare words (a table of a few hundred thousand words does not stay in cache while the
  // matcher runs) overlap instead of stalling one after another; (3) probe.
  //
  // Pass 1 in two steps. (1a) The positions where the class changes (a word starts or ends: they
  // alternate, start first) go to `miss`, free until pass 3: eight stores per 16-byte block
  // whatever it holds, the count then advanced by how many it held, so no branch depends on the
  // text (a loop over each block's boundaries mispredicted its exit about once a word). The
  // stores past the count are overwritten by the next block's. (1b) Key each (start, end) pair.
  let ne = 0;
  let carry = 0; // 1 when the previous block ended inside a word
  // the block that reaches `n` is followed by zeros, so it ends every word but one running into
  // the next block, which then ends it
  for (let base = 0; ; base += 16) {
    const m = wordBits(v128.load(text + <usize>base));
    let ev = (m ^ ((m << 1) | carry)) & 0xffff;
    carry = (m >>> 15) & 1;
    const cnt = popcnt(ev);
    let q = miss + (<usize>ne << 2);
    do {
      // a fixed count: the loop's own branch is always predicted
      for (let k = 0; k < 8; k++) {
        store<i32>(q + (<usize>k << 2), base + ctz(ev));
        ev &= ev - 1;
      }
      q += 32;
    } while (ev != 0);
    ne += cnt;
    if (base + 16 >= n && carry == 0) break;
  }
  const nw = ne >> 1;
  for (let i = 0; i < nw; i++) {
    const start = load<i32>(miss + (<usize>i << 3));
    const len = load<i32>(miss + (<usize>i << 3), 4) - start;
    const p = text + <usize>start;
    const c0 = chars0(p, len);
    const c1 = chars1(p, len);
    const k = keys + (<usize>i << 5);
    store<i64>(k, c0);
    store<i64>(k, c1, 8);
    store<i32>(k, hash(c0, c1, len, p + 16), 16);
    store<i32>(k, start, 20);
    store<i32>(k, len, 24);
  }

  let x = 0;
  for (let i = 0; i < nw; i++) x ^= load<i32>(slots + (<usize>(load<i32>(keys + (<usize>i << 5), 16) & mask) << 5));
  touched ^= x;

  let misses = 0;
  for (let i = 0; i < nw; i++) {
    const k = keys + (<usize>i << 5);
    const c0 = load<i64>(k);
    const c1 = load<i64>(k, 8);
    const len = load<i32>(k, 24);
    const p = text + <usize>load<i32>(k, 20);
    const b = probe(c0, c1, load<i32>(k, 16), p, len, slots, mask, pool, woff);
    // branch-free where the data decides (whether a word has an id is a coin toss per word)
    let r = -3;
    if (b >= 0) {
      if (mode == 1) r = load<i32>(b) - 1;
      else {
        const id = load<i32>(b, 8);
        r = select<i32>(id, -1, id >= 0);
        if (<i32>(id == -1) & <i32>(load<i32>(b, 12) != curVer)) r = -3;
      }
    }
    if (r == -3) {
      const q = miss + <usize>misses * 12;
      store<i32>(q, i);
      store<i32>(q, load<i32>(k, 20), 4);
      store<i32>(q, load<i32>(k, 20) + len, 8);
      misses++;
      r = -1;
    }
    store<i32>(out + (<usize>i << 2), r);
  }
  nMiss = misses;
  return nw;
}


// ------------------------------------------------------------------ single words (JS side)

/** Byte offset of the slot of the word at `p` (`len` ASCII letters/digits), or -1. */
export function find(p: usize, len: i32, slots: usize, mask: i32, pool: usize, woff: usize): isize {
  const c0 = chars0(p, len);
  const c1 = chars1(p, len);
  return probe(c0, c1, hash(c0, c1, len, p + 16), p, len, slots, mask, pool, woff);
}

/**
 * Adds the word at `p` (absent from the table) as `entry` with stem id `id` (answered as of
 * interner version `ver`); a word longer than 16 chars keeps its tail in `pool` at `poolAt` (the
 * caller reserves `len - 16` bytes there and sets `woff[entry]`). Returns the slot's byte offset.
 */
export function add(p: usize, len: i32, entry: i32, id: i32, ver: i32, slots: usize, mask: i32, pool: usize, poolAt: i32): usize {
  const c0 = chars0(p, len);
  const c1 = chars1(p, len);
  const h = hash(c0, c1, len, p + 16);
  let s = h & mask;
  let b = slots + (<usize>s << 5);
  while (load<i32>(b) != 0) {
    s = (s + 1) & mask;
    b = slots + (<usize>s << 5);
  }
  store<i32>(b, entry + 1);
  store<i32>(b, len, 4);
  store<i32>(b, id, 8);
  store<i32>(b, ver, 12);
  store<i64>(b, c0, 16);
  store<i64>(b, c1, 24);
  for (let i = 16; i < len; i++) store<u8>(pool + <usize>poolAt + <usize>(i - 16), load<u8>(p + <usize>i) | 0x20);
  return b;
}

/** Moves every slot of the table at `from` (`fromMask`) into the empty table at `to` (`toMask`). */
export function rehash(from: usize, fromMask: i32, to: usize, toMask: i32, pool: usize, woff: usize): void {
  for (let i = 0; i <= fromMask; i++) {
    const o = from + (<usize>i << 5);
    const v = load<i32>(o);
    if (v == 0) continue;
    const len = load<i32>(o, 4);
    const tail = len > 16 ? pool + <usize>load<i32>(woff + (<usize>(v - 1) << 2)) : 0;
    let s = hash(load<i64>(o, 16), load<i64>(o, 24), len, tail) & toMask;
    let b = to + (<usize>s << 5);
    while (load<i32>(b) != 0) {
      s = (s + 1) & toMask;
      b = to + (<usize>s << 5);
    }
    memory.copy(b, o, 32);
  }
}
