/**
 * TopicIndex's build side: topics attached to and detached from entries, each entry's anchors,
 * overflow postings for upserts, and the rebuild that compacts entries and lays out the CSR
 * postings.
 */
import { internedCount } from './terms.js';
import { rehash } from './topic-index-compile.js';
import { OP_AND, OP_BITS, OP_HAS, OP_MASK, OP_NOT, OP_OR, OP_PHRASE, OP_TITLE, OP_TITLE_PHRASE } from './topic-index-match.js';
import { growF64, growI32, type IndexState } from './topic-index-state.js';

const TOPIC_ARRAY_LIMIT = 1 << 24;

export function getTopic(s: IndexState, topicId: number): number {
  if (topicId >= 0 && topicId < s.topicArr.length) return s.topicArr[topicId];
  return s.topicMap.get(topicId) ?? -1;
}

function setTopic(s: IndexState, topicId: number, e: number): void {
  if (Number.isInteger(topicId) && topicId >= 0 && topicId < TOPIC_ARRAY_LIMIT && topicId <= 8 * s.numTopics + (1 << 20)) {
    if (topicId >= s.topicArr.length) s.topicArr = growI32(s.topicArr, topicId + 1, -1);
    s.topicArr[topicId] = e;
    return;
  }
  if (topicId >= 0 && topicId < s.topicArr.length) s.topicArr[topicId] = e;
  else if (e < 0) s.topicMap.delete(topicId);
  else s.topicMap.set(topicId, e);
}

export function attach(s: IndexState, topicId: number, e: number): void {
  if (s.entryCode[e] < 0) throw new Error('attach to a dead entry');
  if (s.entryTopic[e] === -1) s.entryTopic[e] = topicId;
  else {
    const l = s.entryExtra.get(e);
    if (l) l.push(topicId);
    else {
      s.entryExtra.set(e, [topicId]);
      s.entryMulti[e] = 1;
    }
  }
  setTopic(s, topicId, e);
  s.numTopics++;
}

export function removeTopic(s: IndexState, topicId: number): boolean {
  const e = getTopic(s, topicId);
  if (e < 0) return false;
  setTopic(s, topicId, -1);
  s.numTopics--;
  const extra = s.entryExtra.get(e);
  if (s.entryTopic[e] === topicId) {
    if (extra && extra.length > 0) {
      s.entryTopic[e] = extra.pop() as number;
      if (extra.length === 0) {
        s.entryExtra.delete(e);
        s.entryMulti[e] = 0;
      }
    } else killEntry(s, e);
  } else if (extra) {
    const i = extra.indexOf(topicId);
    if (i >= 0) {
      extra[i] = extra[extra.length - 1];
      extra.pop();
    }
    if (extra.length === 0) {
      s.entryExtra.delete(e);
      s.entryMulti[e] = 0;
    }
  }
  return true;
}

function killEntry(s: IndexState, e: number): void {
  s.entryCode[e] = -1;
  s.entryTopic[e] = -1;
  const mask = s.table.length - 1;
  for (let i = s.entryHash[e] & mask; s.table[i] !== 0; i = (i + 1) & mask) {
    if (s.table[i] === e + 1) {
      s.table[i] = -1;
      break;
    }
  }
  s.liveEntries--;
  s.deadEntries++;
}

/**
 * Anchor atoms of the program at `pc` into `out` (starting at `n`); returns the new count, or
 * -1 when the node has no positive requirement. `s.anchorCost` receives the cost.
 */
function anchorsAt(s: IndexState, pc: number, out: number[], n: number): number {
  const code = s.code;
  const h = code[pc];
  switch (h & OP_MASK) {
    case OP_HAS:
    case OP_TITLE: {
      const id = code[pc + 1];
      out[n] = id;
      s.anchorCost = s.termDf[id] + 1;
      return n + 1;
    }
    case OP_PHRASE:
    case OP_TITLE_PHRASE: {
      const k = code[pc + 1];
      let best = code[pc + 2];
      for (let i = 1; i < k; i++) {
        const id = code[pc + 2 + 2 * i];
        if (s.termDf[id] < s.termDf[best]) best = id;
      }
      out[n] = best;
      s.anchorCost = s.termDf[best] + 1;
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
        const m = anchorsAt(s, p, scratch, 0);
        if (m >= 0 && s.anchorCost < bestCost) {
          bestCost = s.anchorCost;
          bestPc = p;
        }
      }
      if (bestPc < 0) return -1;
      const r = anchorsAt(s, bestPc, out, n);
      s.anchorCost = bestCost;
      return r;
    }
    case OP_OR: {
      const end = pc + (h >>> OP_BITS);
      let cost = 0;
      for (let p = pc + 1; p < end; p += code[p] >>> OP_BITS) {
        n = anchorsAt(s, p, out, n);
        if (n < 0) return -1;
        cost += s.anchorCost;
      }
      s.anchorCost = cost;
      return n;
    }
    default:
      throw new Error(`corrupt matcher code at ${pc}`);
  }
}

function entryAnchors(s: IndexState, e: number, out: number[]): number {
  const n = anchorsAt(s, s.entryCode[e], out, 0);
  if (n < 0) throw new Error('query without a positive requirement cannot be indexed');
  // dedupe (n is small)
  let m = 0;
  outer: for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) if (out[j] === out[i]) continue outer;
    out[m++] = out[i];
  }
  return m;
}

export function postOverflow(s: IndexState, e: number): void {
  const anchors: number[] = [];
  const n = entryAnchors(s, e, anchors);
  for (let i = 0; i < n; i++) {
    const l = s.overflow.get(anchors[i]);
    if (l) l.push(e);
    else s.overflow.set(anchors[i], [e]);
    s.overflowCount++;
  }
}

export function maybeCompact(s: IndexState): void {
  const limit = Math.max(s.compactMin, s.compactFraction * s.liveEntries);
  if (s.overflowCount + s.deadEntries > limit) rebuild(s);
}

/** Drop dead entries, renumber, recompute anchors and rebuild the CSR postings. */
export function rebuild(s: IndexState): void {
  // 1. anchors of the live entries (old numbering)
  const oldCode = s.code;
  const oldEntryCode = s.entryCode;
  const oldNum = s.numEntries;
  const live = s.liveEntries;
  const nt = internedCount();
  if (s.termDf.length < nt) s.termDf = growF64(s.termDf, nt);
  const liveOld = new Int32Array(live);
  const anchorStart = new Int32Array(live + 1);
  let anchorBuf = new Int32Array(Math.max(16, live * 2));
  const scratch: number[] = [];
  let total = 0;
  let k = 0;
  for (let e = 0; e < oldNum; e++) {
    if (oldEntryCode[e] < 0) continue;
    const m = entryAnchors(s, e, scratch);
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
  const code = new Int32Array(Math.max(16, s.codeLen));
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
    entryTopic[ne] = s.entryTopic[e];
    entryHash[ne] = s.entryHash[e];
    remap[e] = ne;
    len += size;
  }
  const entryMulti = new Uint8Array(Math.max(16, live));
  for (const [e, extra] of s.entryExtra) {
    entryExtra.set(remap[e], extra);
    entryMulti[remap[e]] = 1;
  }
  s.entryMulti = entryMulti;
  s.code = code;
  s.codeLen = len;
  s.entryCode = entryCode;
  s.entryTopic = entryTopic;
  s.entryHash = entryHash;
  s.entryExtra = entryExtra;
  s.numEntries = live;
  s.liveEntries = live;
  s.deadEntries = 0;
  rehash(s, live * 4);
  const ta = s.topicArr;
  for (let i = 0; i < ta.length; i++) if (ta[i] >= 0) ta[i] = remap[ta[i]];
  for (const [t, e] of s.topicMap) s.topicMap.set(t, remap[e]);
  s.entryGen = new Uint32Array(Math.max(16, live));
  s.gen = 0;

  // 4. CSR postings (count, prefix sums, fill): per term, its one-term entries first
  const counts = new Int32Array(nt + 1);
  for (let j = 0; j < total; j++) counts[anchorBuf[j] + 1]++;
  for (let t = 0; t < nt; t++) counts[t + 1] += counts[t];
  const terms = new Int32Array(Math.max(s.terms.length, 4 * nt + 4));
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
  s.terms = terms; // generations start again from 0 (s.gen was reset above)
  s.csrData = csrData;
  s.csrTerms = nt;
  s.overflow = new Map();
  s.overflowCount = 0;
}
