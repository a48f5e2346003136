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
 * - Stems are interned process-wide (terms.ts `internTerm`); a PreparedArticle carries the ids of
 *   its stems as of its preparation and match() re-resolves them (mutating the article) if
 *   topics have added stems since.
 *
 * Not thread-safe; one index per process is the intended use (use `build` at start-up, then
 * `upsert` / `remove` as topics change).
 *
 * This file holds the public class; its parts are topic-index-state.ts (the shared state),
 * topic-index-compile.ts (queries to entries), topic-index-build.ts (topics, anchors, rebuild)
 * and topic-index-match.ts (match and verify).
 */
import type { QueryNode } from './query.js';
import { internedCount, termKey } from './terms.js';
import { attach, getTopic, maybeCompact, postOverflow, rebuild, removeTopic } from './topic-index-build.js';
import { entryForQuery } from './topic-index-compile.js';
import { MatchingIndex } from './topic-index-match.js';
import { dfOf, growF64, growU8, type TopicIndexOptions } from './topic-index-state.js';

export type { TopicIndexOptions } from './topic-index-state.js';

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

/** Topic ids are database ids: integers in [0, 2^31). */
function checkTopicId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw new RangeError(`topic id ${id} is not an integer in [0, 2^31)`);
}

export class TopicIndex extends MatchingIndex {
  constructor(opts: TopicIndexOptions = {}) {
    super(opts);
  }

  /** Bulk load at start-up: one CSR build at the end. */
  static build(topics: Iterable<{ id: number; query: string | QueryNode }>, opts: TopicIndexOptions = {}): TopicIndex {
    const idx = new TopicIndex(opts);
    for (const t of topics) {
      try {
        checkTopicId(t.id);
        const e = entryForQuery(idx, t.query);
        removeTopic(idx, t.id);
        attach(idx, t.id, e);
      } catch (err) {
        if (opts.onError) opts.onError(t.id, err);
        else throw err;
      }
    }
    rebuild(idx);
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
      this.termDf[id] = dfOf(this, termKey(id));
      this.termDfSet[id] = 1;
    }
    rebuild(this);
  }

  /** Add or replace a topic. Throws QueryError for an invalid query (the index is unchanged). */
  upsert(topicId: number, query: string | QueryNode): void {
    checkTopicId(topicId);
    const e = entryForQuery(this, query);
    const old = getTopic(this, topicId);
    const fresh = this.lastFresh;
    if (e === old) return;
    removeTopic(this, topicId);
    attach(this, topicId, e);
    if (fresh) postOverflow(this, e);
    maybeCompact(this);
  }

  /** Remove a topic; returns whether it was there. */
  remove(topicId: number): boolean {
    const had = removeTopic(this, topicId);
    if (had) maybeCompact(this);
    return had;
  }

  has(topicId: number): boolean {
    return getTopic(this, topicId) >= 0;
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
}
