/**
 * TopicIndex's compiler: a query (string or tree) to a deduplicated entry whose bytecode sits in
 * the shared `code` array, with a fast path for plain-word queries and the dedupe hash table.
 */
import { canonicalize } from './query-canonical.js';
import { parseQuery } from './query-parse.js';
import { DEFAULT_MAX_TERMS, type QueryNode } from './query.js';
import { internTerm, termKey } from './terms.js';
import { normalizeLanguage, queryWordId } from './text.js';
import { OP_AND, OP_BITS, OP_HAS, OP_NOT, OP_OR, OP_PHRASE, OP_TITLE, OP_TITLE_PHRASE } from './topic-index-match.js';
import { dfOf, growF64, growI32, growU8, type IndexState } from './topic-index-state.js';

/** Order of evaluation inside AND/OR: atoms, then groups, negations last. */
function evalRank(c: QueryNode): number {
  return c.type === 'not' ? 2 : c.type === 'and' || c.type === 'or' ? 1 : 0;
}

/** Entry for a query string or tree (parsed, compiled, deduplicated). */
export function entryForQuery(s: IndexState, query: string | QueryNode): number {
  if (typeof query === 'string') {
    const e = fastEntry(s, query);
    if (e >= 0) return e;
    return entryFor(s, parseQuery(query, s.parseOpts));
  }
  return entryFor(s, query);
}

function entryFor(s: IndexState, node: QueryNode): number {
  const canon = canonicalize(node).node;
  const start = s.codeLen;
  compileNode(s, canon);
  return dedupe(s, start);
}

/**
 * Fast path of parse + canonicalize + compile for the commonest queries: plain ASCII words
 * separated by single spaces, optionally joined by `AND` (no other operator, field, quote,
 * parenthesis or sign). Emits exactly the code the general path would (an AND of the distinct
 * stems in canonical order, or one term) and returns the entry, or -1 to take the general path
 * (which also reports every error).
 */
function fastEntry(s: IndexState, q: string): number {
  const n = q.length;
  if (n === 0 || n > 256) return -1;
  if (s.fastLanguage === '') s.fastLanguage = normalizeLanguage(s.parseOpts.language ?? 'en');
  const language = s.fastLanguage;
  const maxTerms = s.parseOpts.maxTerms ?? DEFAULT_MAX_TERMS;
  let ids = s.fastIds;
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
          if (k === ids.length) ids = s.fastIds = growI32(ids, k + 1);
          ids[k++] = id;
        }
      }
    }
    if (last) break;
    i++; // the space
  }
  if (k === 0) return -1;
  const start = s.codeLen;
  if (k === 1) {
    emit(s, OP_HAS | (2 << OP_BITS));
    emit(s, word(s, termKey(ids[0]), ids[0]));
    return dedupe(s, start);
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
  emit(s, OP_AND | ((1 + 2 * k) << OP_BITS));
  for (let j = 0; j < k; j++) {
    emit(s, OP_HAS | (2 << OP_BITS));
    emit(s, word(s, termKey(ids[j]), ids[j]));
  }
  return dedupe(s, start);
}

/** Entry whose code equals the code just compiled at `start` (discarded), or a new entry. */
function dedupe(s: IndexState, start: number): number {
  const len = s.codeLen - start;
  const code = s.code;
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < start + len; i++) h = Math.imul(h ^ code[i], 0x01000193);
  h ^= h >>> 15;
  const table = s.table;
  const mask = table.length - 1;
  let i = h & mask;
  for (let v = table[i]; v !== 0; v = table[(i = (i + 1) & mask)]) {
    if (v < 0) continue;
    const e = v - 1;
    if (s.entryHash[e] !== h) continue;
    const pc = s.entryCode[e];
    if ((code[pc] >>> OP_BITS) !== len) continue;
    let same = true;
    for (let k = 0; k < len; k++) {
      if (code[pc + k] !== code[start + k]) {
        same = false;
        break;
      }
    }
    if (same) {
      s.codeLen = start; // discard the duplicate
      s.lastFresh = false;
      return e;
    }
  }
  s.lastFresh = true;
  return newEntry(s, start, h);
}

/** `id`, with its document frequency for this index worked out on first use. */
function withDf(s: IndexState, id: number, key: string): number {
  if (s.termDfSet.length <= id) {
    s.termDf = growF64(s.termDf, id + 1);
    s.termDfSet = growU8(s.termDfSet, s.termDf.length);
  }
  if (s.termDfSet[id] === 0) {
    s.termDf[id] = dfOf(s, key);
    s.termDfSet[id] = 1;
  }
  return id;
}

function intern(s: IndexState, key: string): number {
  return withDf(s, internTerm(key), key);
}

function word(s: IndexState, stem: string, id: number | undefined): number {
  // trust a parser-provided id only if it is the stem's (cheap: usually the same string object)
  return id === undefined || termKey(id) !== stem ? intern(s, stem) : withDf(s, id, stem);
}

function emit(s: IndexState, v: number): void {
  if (s.codeLen === s.code.length) s.code = growI32(s.code, s.codeLen + 1);
  s.code[s.codeLen++] = v;
}

function compileNode(s: IndexState, n: QueryNode): void {
  switch (n.type) {
    case 'term':
      emit(s, (n.field === 'title' ? OP_TITLE : OP_HAS) | (2 << OP_BITS));
      emit(s, word(s, n.stem, n.termId));
      return;
    case 'phrase': {
      const op = n.field === 'title' ? OP_TITLE_PHRASE : OP_PHRASE;
      emit(s, op | ((2 + 2 * n.stems.length) << OP_BITS));
      emit(s, n.stems.length);
      for (let i = 0; i < n.stems.length; i++) {
        emit(s, word(s, n.stems[i], n.termIds?.[i]));
        emit(s, n.offsets[i]);
      }
      return;
    }
    case 'tag':
      emit(s, OP_HAS | (2 << OP_BITS));
      emit(s, intern(s, `\u0001${n.value}`));
      return;
    case 'section':
      emit(s, OP_HAS | (2 << OP_BITS));
      emit(s, intern(s, `\u0002${n.value}`));
      return;
    case 'lang':
      emit(s, OP_HAS | (2 << OP_BITS));
      emit(s, intern(s, `\u0003${n.value}`));
      return;
    case 'and':
    case 'or':
    case 'not': {
      const start = s.codeLen;
      emit(s, 0);
      if (n.type === 'not') compileNode(s, n.child);
      else {
        // cheap checks first: atoms, then groups, negations last
        for (let r = 0; r <= 2; r++) for (const c of n.children) if (evalRank(c) === r) compileNode(s, c);
      }
      const op = n.type === 'and' ? OP_AND : n.type === 'or' ? OP_OR : OP_NOT;
      s.code[start] = op | ((s.codeLen - start) << OP_BITS);
      return;
    }
  }
}

function newEntry(s: IndexState, pc: number, h: number): number {
  const e = s.numEntries++;
  if (s.entryCode.length <= e) {
    s.entryCode = growI32(s.entryCode, e + 1);
    s.entryTopic = growI32(s.entryTopic, e + 1);
    s.entryHash = growI32(s.entryHash, e + 1);
    s.entryMulti = growU8(s.entryMulti, s.entryCode.length);
  }
  s.entryMulti[e] = 0;
  s.entryCode[e] = pc;
  s.entryTopic[e] = -1;
  s.entryHash[e] = h;
  s.liveEntries++;
  if ((s.tableUsed + 1) * 2 > s.table.length) rehash(s, s.liveEntries * 4);
  tableInsert(s, e);
  return e;
}

function tableInsert(s: IndexState, e: number): void {
  const table = s.table;
  const mask = table.length - 1;
  let i = s.entryHash[e] & mask;
  while (table[i] > 0) i = (i + 1) & mask;
  if (table[i] === 0) s.tableUsed++;
  table[i] = e + 1;
}

/** New dedupe table for the live entries, at least `min` slots. */
export function rehash(s: IndexState, min: number): void {
  let n = 1 << 12;
  while (n < min) n *= 2;
  s.table = new Int32Array(n);
  s.tableUsed = 0;
  for (let e = 0; e < s.numEntries; e++) if (s.entryCode[e] >= 0) tableInsert(s, e);
}
