/**
 * parseQuery: the raw tree of query-syntax.ts to a QueryNode (words folded, stemmed and interned),
 * and the checks every query must pass.
 *
 * Terms are case-insensitive, accent-folded and stemmed (see text.ts). A word that folds to
 * several words (`russia-japan`, `U.S.`) is a phrase of them. Stop words are removed from the
 * query as if they had not been written (`the OR japan` is `japan`); a query of stop words only is
 * an error.
 *
 * Language: query words are stemmed with ONE language — `opts.language` if given, else the
 * language of a top-level `lang:` requirement (`lang:de Bundeskanzler`), else English. An article
 * is stemmed with its own language. A term matches an article when the query stem equals one of
 * the article's stems (no cross-language stemming): an English query matches a German article
 * only where the stems coincide (names mostly do). The index and the reference evaluator both
 * compare the stems stored in the tree, so they always agree.
 *
 * A query must need at least one positive term, phrase or field on every way it can match
 * (`a OR -b` is refused): that keeps the percolator able to anchor every query.
 */
import { DEFAULT_MAX_TERMS, QueryError, type ParseOptions, type QueryNode } from './query.js';
import { lex, Parser, type Raw } from './query-syntax.js';
import { termKey } from './terms.js';
import { analyzeQueryWord, asciiQueryWordId, foldWords, normalizeLanguage, stopWordsFor } from './text.js';

// ---------------------------------------------------------------- analysis

interface Ctx {
  language: string;
  stops: ReadonlySet<string>;
  leaves: number;
  maxTerms: number;
}

function countLeaf(ctx: Ctx, col: number): void {
  ctx.leaves++;
  if (ctx.leaves > ctx.maxTerms) {
    throw new QueryError('too_many_terms', `too many terms: at most ${ctx.maxTerms} (the one at column ${col} is one too many)`, col);
  }
}

/** The lower-cased word when `w` is plain ASCII letters/digits (the common case), else null. */
function simpleWord(w: string): string | null {
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57))) return null;
  }
  return w.length > 0 ? w.toLowerCase() : null;
}

function analyzeRaw(r: Raw, ctx: Ctx): QueryNode | null {
  switch (r.t) {
    case 'text': {
      const simple = simpleWord(r.text);
      if (simple !== null) {
        // fast path: one plain ASCII word
        if (ctx.stops.has(simple)) return null;
        countLeaf(ctx, r.col);
        const id = asciiQueryWordId(simple, ctx.language);
        return { type: 'term', field: r.field, word: simple, stem: termKey(id), termId: id };
      }
      const words = foldWords(r.text);
      const stems: string[] = [];
      const termIds: number[] = [];
      const offsets: number[] = [];
      let first = -1;
      for (let i = 0; i < words.length; i++) {
        if (ctx.stops.has(words[i])) continue;
        if (first < 0) first = i;
        // plain ASCII words through the word table, which has most of them stemmed already
        const id = simpleWord(words[i]) !== null ? asciiQueryWordId(words[i], ctx.language) : analyzeQueryWord(words[i], ctx.language).id;
        stems.push(termKey(id));
        termIds.push(id);
        offsets.push(i - first);
      }
      if (stems.length === 0) return null;
      countLeaf(ctx, r.col);
      if (stems.length === 1) return { type: 'term', field: r.field, word: words[first], stem: stems[0], termId: termIds[0] };
      return { type: 'phrase', field: r.field, words, stems, offsets, termIds };
    }
    case 'tag':
    case 'section':
    case 'lang':
      countLeaf(ctx, r.col);
      return { type: r.t, value: r.value };
    case 'not': {
      const k = analyzeRaw(r.kid, ctx);
      if (!k) return null;
      return k.type === 'not' ? k.child : { type: 'not', child: k };
    }
    case 'and':
    case 'or': {
      const children: QueryNode[] = [];
      for (const kid of r.kids) {
        const k = analyzeRaw(kid, ctx);
        if (!k) continue;
        if (k.type === r.t) children.push(...k.children);
        else children.push(k);
      }
      if (children.length === 0) return null;
      if (children.length === 1) return children[0];
      return { type: r.t, children };
    }
  }
}

/** True when every way to satisfy `node` needs a positive term, phrase or field. */
export function isPositive(node: QueryNode): boolean {
  switch (node.type) {
    case 'not':
      return false;
    case 'and':
      return node.children.some(isPositive);
    case 'or':
      return node.children.every(isPositive);
    default:
      return true;
  }
}

function inferLanguage(r: Raw): string | undefined {
  if (r.t === 'lang') return r.value;
  if (r.t === 'and') {
    const langs = new Set<string>();
    for (const k of r.kids) if (k.t === 'lang') langs.add(k.value);
    if (langs.size === 1) return [...langs][0];
  }
  return undefined;
}

export function parseQuery(input: string, opts: ParseOptions = {}): QueryNode {
  if (typeof input !== 'string' || input.trim() === '') throw new QueryError('empty_query', 'the query is empty', 1);
  const toks = lex(input);
  const raw = new Parser(toks).parseTop();
  const language = normalizeLanguage(opts.language ?? inferLanguage(raw) ?? 'en');
  const ctx: Ctx = { language, stops: stopWordsFor(language), leaves: 0, maxTerms: opts.maxTerms ?? DEFAULT_MAX_TERMS };
  const node = analyzeRaw(raw, ctx);
  if (!node) {
    throw new QueryError('only_stop_words', 'the query has only stop words (like "the", "of"); add a more specific term', 1);
  }
  if (!isPositive(node)) {
    throw new QueryError('only_negations', 'a query needs at least one term that is not excluded', raw.col);
  }
  return node;
}
