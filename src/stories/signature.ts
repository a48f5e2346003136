import { foldWords } from '../matching/index.js';

// The near-duplicate signature of an article: the text without boilerplate, cut into
// overlapping 3-word shingles, summarised by one-permutation MinHash (64 bins, each the
// smallest hash that fell into it; empty bins filled by optimal densification). Two signatures
// estimate the Jaccard similarity of the shingle sets; with the set sizes that gives the
// containment of the smaller in the larger, which is what "the same story" means when a copy is
// trimmed, or an update adds a new lead paragraph. Written here rather than taken from npm: the
// maintained MinHash packages hash every shingle once per permutation (64x the work, and the
// 5,000 articles/s target would not hold), and none densifies one-permutation sketches.

export const BINS = 64;
export const SHINGLE_WORDS = 3;
/** Fewer distinct shingles than this carry too little text to tell stories apart: no signature. */
export const MIN_SHINGLES = 6;

export interface Signature {
  /** Per bin, the low 16 bits of the bin's minimum (what similarity compares). */
  bins: Uint16Array;
  /** Per bin, the full minimum (what the LSH band keys are made of). */
  mins: Uint32Array;
  /** Distinct shingles: the set size the containment estimate needs. */
  shingles: number;
}

// Sentences that syndication adds or removes and that say nothing about the story: they must
// not make unrelated articles similar (two press releases with the same disclaimer). A legal
// notice runs to the end of its paragraph; the rest are one sentence or line each.
const BOILERPLATE_TAIL = [
  /^(legal\s+)?disclaimer\b/i,
  /\b(menafn|ein presswire|newswire|press release distribution)\b.*\b(provides|distribution|disclaimer|responsib|accuracy|content)/i,
  /^(©|\(c\)|copyright\b)|\ball rights reserved\b/i,
  /^(this (article|story|content) (was|is) (originally )?(published|provided|written))/i,
];
const BOILERPLATE_SENTENCE = [
  /\bshare (us|this( article)?|it) on\b|\bshare on (facebook|twitter|x|linkedin|whatsapp)\b|\bsocial networks?\b/i,
  /^(follow|like) us\b|\bfollow us on\b/i,
  /^(read|see) (more|also)\b|^related( articles?)?:|^click here\b|^(sign up|subscribe) (for|to)\b/i,
  /^(photo|image|picture|video|credit|source)s?\s*[:|]/i,
  /^[Bb]y\s+[\p{Lu}][\p{L}.'’-]*(\s+[\p{Lu}][\p{L}.'’-]*){0,3}(\s*[,|]\s*[\p{L} ]{1,40})?$/u,
];
// "TOKYO, Dec 2 (Reuters) -" and "WASHINGTON (AP) —": the dateline in front of a wire story's
// first paragraph; an outlet reprinting it may keep or drop it.
const DATELINE = /^[\p{Lu}][\p{Lu}\p{L} .'’-]{1,40}(,\s*[\p{L}]{3,9}\.?\s*\d{1,2}(,\s*\d{4})?)?\s*(\([^)]{1,40}\))?\s*[-–—:]{1,2}\s+/u;

/**
 * The text a signature is made of: title and body (or summary) without boilerplate. Lines are
 * cut into sentences and a sentence that is boilerplate goes (not its whole paragraph: outlets
 * glue "Share us on your social networks:" onto the story's last line).
 */
export function storyText(a: { title: string; summary?: string | null; body?: string | null }): string {
  const main = a.body && a.body.length > (a.summary?.length ?? 0) ? a.body : (a.summary ?? '');
  const kept: string[] = [];
  for (const raw of main.split(/\n+/)) {
    const line = raw.trim().replace(DATELINE, '');
    if (!line) continue;
    const sentences: string[] = [];
    for (const sentence of line.split(/(?<=[.!?:])\s+(?=["“(\p{Lu}\p{N}])/u)) {
      if (sentence.length >= 400) sentences.push(sentence);
      else if (BOILERPLATE_TAIL.some((re) => re.test(sentence))) break;
      else if (!BOILERPLATE_SENTENCE.some((re) => re.test(sentence))) sentences.push(sentence);
    }
    if (sentences.length > 0) kept.push(sentences.join(' '));
  }
  return `${a.title}\n${kept.join('\n')}`;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function wordHash(w: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// Scratch set of shingle hashes (distinct count), reused: signatures are made one at a time.
let seen = new Uint32Array(4096);

const EMPTY = 0xffffffff;

/** The signature of a text, or undefined when it has too few shingles to compare. */
export function signatureOf(text: string): Signature | undefined {
  // Shingles stay within a line (a paragraph): moving paragraphs about changes no shingle, and a
  // line of one or two words (a heading) is one shingle of its own.
  const lines = text.split('\n').map(foldWords).filter((w) => w.length > 0);
  let total = 0;
  for (const w of lines) total += Math.max(1, w.length - SHINGLE_WORDS + 1);
  if (total < MIN_SHINGLES) return undefined;
  const mins = new Uint32Array(BINS).fill(EMPTY);
  const size = Math.max(64, 1 << (32 - Math.clz32(total * 2)));
  if (seen.length < size) seen = new Uint32Array(size);
  const mask = size - 1;
  seen.fill(0, 0, size);
  let distinct = 0;
  for (const words of lines) {
    const wh = words.map(wordHash);
    const n = Math.max(1, words.length - SHINGLE_WORDS + 1);
    for (let i = 0; i < n; i++) {
      let h = Math.imul(wh[i]!, 0x9e3779b1) ^ (wh[i + 1] ?? 0x5bd1e995);
      h = Math.imul(h, 0x85ebca77) ^ (wh[i + 2] ?? 0x27d4eb2f);
      h = fmix32(h) | 1; // never 0: 0 marks an empty slot of `seen`
      let j = h & mask;
      while (seen[j] !== 0 && seen[j] !== h) j = (j + 1) & mask;
      if (seen[j] === h) continue;
      seen[j] = h;
      distinct++;
      const bin = h >>> 26;
      const v = h & 0x03ffffff;
      if (v < mins[bin]!) mins[bin] = v;
    }
  }
  if (distinct < MIN_SHINGLES) return undefined;
  // Optimal densification: an empty bin borrows the value of a bin chosen by a hash of its
  // index and the attempt, the same choice for every text, so equal sets stay equal.
  const filled = Uint8Array.from(mins, (m) => (m === EMPTY ? 0 : 1));
  for (let b = 0; b < BINS; b++) {
    if (filled[b]) continue;
    for (let attempt = 1; ; attempt++) {
      const from = fmix32(Math.imul(b + 1, 0x9e3779b1) + attempt) & (BINS - 1);
      if (filled[from]) {
        mins[b] = mins[from]!;
        break;
      }
    }
  }
  const bins = new Uint16Array(BINS);
  for (let b = 0; b < BINS; b++) bins[b] = mins[b]! & 0xffff;
  return { bins, mins, shingles: distinct };
}

/** Estimated Jaccard similarity of two shingle sets: the share of bins that agree. */
export function jaccard(a: Uint16Array, aOff: number, b: Uint16Array, bOff: number): number {
  let same = 0;
  for (let i = 0; i < BINS; i++) if (a[aOff + i] === b[bOff + i]) same++;
  return same / BINS;
}

/**
 * How much of the smaller text the larger one contains, from the Jaccard estimate and the set
 * sizes: |A∩B| = J(|A|+|B|)/(1+J). 1 for a trimmed copy or a teaser of the full story.
 */
export function containment(j: number, sizeA: number, sizeB: number): number {
  if (j <= 0) return 0;
  const inter = (j * (sizeA + sizeB)) / (1 + j);
  return Math.min(1, inter / Math.min(sizeA, sizeB));
}

/** The stored form of a signature's minimums: 64 × uint32, little-endian. */
export function encodeMins(mins: Uint32Array): Buffer {
  const out = Buffer.alloc(BINS * 4);
  for (let i = 0; i < BINS; i++) out.writeUInt32LE(mins[i]!, i * 4);
  return out;
}

/** A signature back from its stored minimums and shingle count. */
export function decodeSignature(bytes: Uint8Array, shingles: number): Signature {
  if (bytes.byteLength !== BINS * 4) throw new Error(`a stored signature has ${bytes.byteLength} bytes, not ${BINS * 4}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mins = new Uint32Array(BINS);
  const bins = new Uint16Array(BINS);
  for (let i = 0; i < BINS; i++) {
    mins[i] = view.getUint32(i * 4, true);
    bins[i] = mins[i]! & 0xffff;
  }
  return { mins, bins, shingles };
}
