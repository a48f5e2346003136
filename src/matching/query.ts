/**
 * The topic query language.
 *
 *   japan nato                 both terms (implicit AND; the keyword AND is optional)
 *   japan AND nato             the same
 *   nato OR otan, nato | otan  either
 *   "prime minister"           exact phrase (stop words inside keep their place)
 *   -sports, NOT sports        exclusion; also -"exact phrase" and -(a OR b)
 *   (a OR b) c                 grouping
 *   tag:ukraine  section:world  lang:de  title:nato  title:"arms deal"
 *
 * Precedence (decided here, tested in test/unit/matching/query.test.ts): like Google and unlike
 * Lucene, OR binds TIGHTER than AND, so `a b OR c` means `a AND (b OR c)`, and so does
 * `a AND b OR c`. NOT / `-` binds tightest: `-a OR b` means `(NOT a) OR b`.
 * Operators are the upper-case words AND, OR, NOT; lower-case "and", "or", "not" are ordinary
 * words (English stop words, so dropped).
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
import { analyzeQueryWord, asciiQueryWordId, foldWords, normalizeLanguage, normalizeTag, stopWordsFor, termKey } from './text.js';

export type TextField = 'text' | 'title';

export interface TermNode {
  type: 'term';
  field: TextField;
  /** The folded word as written. */
  word: string;
  stem: string;
  /** Process-local interned id of `stem` (set by parseQuery; optional when building nodes by hand). */
  termId?: number;
}
export interface PhraseNode {
  type: 'phrase';
  field: TextField;
  /** The folded words as written, stop words included. */
  words: string[];
  /** Stems of the non-stop words (at least two). */
  stems: string[];
  /** Position of each stem relative to the first (offsets[0] === 0, ascending). */
  offsets: number[];
  /** Process-local interned ids of `stems` (set by parseQuery; optional). */
  termIds?: number[];
}
export interface TagNode {
  type: 'tag';
  value: string;
}
export interface SectionNode {
  type: 'section';
  value: string;
}
export interface LangNode {
  type: 'lang';
  value: string;
}
export interface AndNode {
  type: 'and';
  children: QueryNode[];
}
export interface OrNode {
  type: 'or';
  children: QueryNode[];
}
export interface NotNode {
  type: 'not';
  child: QueryNode;
}
export type AtomNode = TermNode | PhraseNode | TagNode | SectionNode | LangNode;
export type QueryNode = AtomNode | AndNode | OrNode | NotNode;

export type QueryErrorCode =
  | 'empty_query'
  | 'unclosed_quote'
  | 'empty_phrase'
  | 'unbalanced_parentheses'
  | 'empty_group'
  | 'dangling_or'
  | 'dangling_and'
  | 'dangling_not'
  | 'unknown_field'
  | 'empty_field'
  | 'invalid_field_value'
  | 'only_negations'
  | 'only_stop_words'
  | 'too_many_terms';

export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    readonly code: QueryErrorCode,
    message: string,
    /** 1-based column (UTF-16 code units) where the problem is. */
    readonly column: number,
  ) {
    super(message);
  }
}

export interface ParseOptions {
  /** Maximum number of terms, phrases and fields (default 32). */
  maxTerms?: number;
  /** Language whose stemmer and stop words apply to the query words. */
  language?: string;
}

export const DEFAULT_MAX_TERMS = 32;

// ---------------------------------------------------------------- lexer

type TokKind = 'word' | 'phrase' | 'lparen' | 'rparen' | 'or' | 'and' | 'not' | 'neg';
interface Tok {
  kind: TokKind;
  text: string;
  /** 1-based column. */
  col: number;
  /** For a phrase written right after `field:`. */
  field?: string;
  fieldCol?: number;
}

const isSpace = (c: string): boolean => {
  const k = c.charCodeAt(0);
  return k === 32 || (k >= 9 && k <= 13) || (k > 127 && /\s/.test(c));
};
const isSpecial = (c: string): boolean => c === '"' || c === '(' || c === ')' || c === '|';

function readPhrase(input: string, start: number): { text: string; next: number } {
  const close = input.indexOf('"', start + 1);
  if (close < 0) throw new QueryError('unclosed_quote', `unclosed quote at column ${start + 1}`, start + 1);
  return { text: input.slice(start + 1, close), next: close + 1 };
}

function lex(input: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const n = input.length;
  while (i < n) {
    const c = input[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '(') {
      toks.push({ kind: 'lparen', text: c, col: i + 1 });
      i++;
    } else if (c === ')') {
      toks.push({ kind: 'rparen', text: c, col: i + 1 });
      i++;
    } else if (c === '|') {
      toks.push({ kind: 'or', text: c, col: i + 1 });
      i++;
    } else if (c === '"') {
      const p = readPhrase(input, i);
      toks.push({ kind: 'phrase', text: p.text, col: i + 1 });
      i = p.next;
    } else if (c === '-' && i + 1 < n && !isSpace(input[i + 1]) && input[i + 1] !== ')' && input[i + 1] !== '|') {
      toks.push({ kind: 'neg', text: c, col: i + 1 });
      i++;
    } else {
      let j = i;
      while (j < n && !isSpace(input[j]) && !isSpecial(input[j])) j++;
      const text = input.slice(i, j);
      if (text === 'OR') toks.push({ kind: 'or', text, col: i + 1 });
      else if (text === 'AND') toks.push({ kind: 'and', text, col: i + 1 });
      else if (text === 'NOT') toks.push({ kind: 'not', text, col: i + 1 });
      else if (text === '-') {
        throw new QueryError('dangling_not', `"-" at column ${i + 1} must be directly followed by the excluded term (e.g. -sports)`, i + 1);
      }
      else if (text.endsWith(':') && input[j] === '"' && /^[A-Za-z]+:$/.test(text)) {
        const p = readPhrase(input, j);
        toks.push({ kind: 'phrase', text: p.text, col: j + 1, field: text.slice(0, -1).toLowerCase(), fieldCol: i + 1 });
        j = p.next;
      } else toks.push({ kind: 'word', text, col: i + 1 });
      i = j;
    }
  }
  return toks;
}

// ---------------------------------------------------------------- parser (raw tree)

type Raw =
  | { t: 'text'; text: string; phrase: boolean; field: TextField; col: number }
  | { t: 'tag' | 'section' | 'lang'; value: string; col: number }
  | { t: 'and' | 'or'; kids: Raw[]; col: number }
  | { t: 'not'; kid: Raw; col: number };

const FIELDS = new Set(['tag', 'section', 'lang', 'title']);

class Parser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok | undefined {
    return this.toks[this.pos];
  }

  parseTop(): Raw {
    const node = this.parseAnd(undefined);
    const t = this.peek();
    if (t) {
      // only a stray ')' can stop parseAnd at the top level
      throw new QueryError('unbalanced_parentheses', `unexpected ")" at column ${t.col}`, t.col);
    }
    if (!node) throw new QueryError('empty_query', 'the query is empty', 1);
    return node;
  }

  /** Items until end of input or `)`; null when there are none. */
  private parseAnd(open: Tok | undefined): Raw | null {
    const kids: Raw[] = [];
    for (;;) {
      const t = this.peek();
      if (!t || t.kind === 'rparen') break;
      if (t.kind === 'and') {
        this.pos++;
        const next = this.peek();
        if (kids.length === 0 || !next || next.kind === 'rparen' || next.kind === 'or' || next.kind === 'and') {
          throw new QueryError('dangling_and', `AND at column ${t.col} needs a term on both sides`, t.col);
        }
        continue;
      }
      kids.push(this.parseOr());
    }
    if (kids.length === 0) {
      if (open) {
        const t = this.peek();
        if (!t) throw new QueryError('unbalanced_parentheses', `unclosed parenthesis at column ${open.col}`, open.col);
        throw new QueryError('empty_group', `empty parentheses at column ${open.col}`, open.col);
      }
      return null;
    }
    return kids.length === 1 ? kids[0] : { t: 'and', kids, col: kids[0].col };
  }

  private parseOr(): Raw {
    const first = this.parseUnary();
    const kids = [first];
    for (;;) {
      const t = this.peek();
      if (!t || t.kind !== 'or') break;
      this.pos++;
      const next = this.peek();
      if (!next || next.kind === 'rparen' || next.kind === 'or' || next.kind === 'and') {
        throw new QueryError('dangling_or', `OR at column ${t.col} needs a term on both sides`, t.col);
      }
      kids.push(this.parseUnary());
    }
    return kids.length === 1 ? first : { t: 'or', kids, col: first.col };
  }

  private parseUnary(): Raw {
    const t = this.peek();
    if (t && (t.kind === 'neg' || t.kind === 'not')) {
      this.pos++;
      const next = this.peek();
      if (!next || next.kind === 'rparen' || next.kind === 'or' || next.kind === 'and') {
        const what = t.kind === 'neg' ? '"-"' : 'NOT';
        throw new QueryError('dangling_not', `${what} at column ${t.col} must be followed by a term`, t.col);
      }
      return { t: 'not', kid: this.parseUnary(), col: t.col };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Raw {
    const t = this.peek();
    if (!t) throw new QueryError('empty_query', 'the query is empty', 1); // not reached
    this.pos++;
    switch (t.kind) {
      case 'lparen': {
        const inner = this.parseAnd(t);
        const close = this.peek();
        if (!close || close.kind !== 'rparen') {
          throw new QueryError('unbalanced_parentheses', `unclosed parenthesis at column ${t.col}`, t.col);
        }
        this.pos++;
        return inner as Raw;
      }
      case 'rparen':
        throw new QueryError('unbalanced_parentheses', `unexpected ")" at column ${t.col}`, t.col);
      case 'or':
        throw new QueryError('dangling_or', `OR at column ${t.col} needs a term on both sides`, t.col);
      case 'and':
        throw new QueryError('dangling_and', `AND at column ${t.col} needs a term on both sides`, t.col);
      case 'phrase': {
        if (t.text.trim() === '') throw new QueryError('empty_phrase', `empty phrase at column ${t.col}`, t.col);
        if (t.field !== undefined) {
          const fcol = t.fieldCol ?? t.col;
          if (t.field === 'title') return { t: 'text', text: t.text, phrase: true, field: 'title', col: fcol };
          if (t.field === 'tag' || t.field === 'section' || t.field === 'lang') return this.field(t.field, t.text, fcol);
          throw new QueryError('unknown_field', `unknown field "${t.field}:" at column ${fcol}`, fcol);
        }
        return { t: 'text', text: t.text, phrase: true, field: 'text', col: t.col };
      }
      case 'word': {
        const m = t.text.indexOf(':') > 0 ? /^([A-Za-z]+):(.*)$/.exec(t.text) : null;
        if (m) {
          const name = m[1].toLowerCase();
          if (!FIELDS.has(name)) {
            throw new QueryError('unknown_field', `unknown field "${m[1]}:" at column ${t.col} (use tag:, section:, lang: or title:)`, t.col);
          }
          const value = m[2];
          if (value === '') {
            throw new QueryError('empty_field', `"${m[1]}:" at column ${t.col} needs a value right after the colon`, t.col);
          }
          if (name === 'title') return { t: 'text', text: value, phrase: false, field: 'title', col: t.col };
          return this.field(name as 'tag' | 'section' | 'lang', value, t.col);
        }
        return { t: 'text', text: t.text, phrase: false, field: 'text', col: t.col };
      }
      default:
        throw new QueryError('dangling_not', `NOT at column ${t.col} must be followed by a term`, t.col); // not reached
    }
  }

  private field(name: 'tag' | 'section' | 'lang', value: string, col: number): Raw {
    if (name === 'lang') {
      const v = value.trim().toLowerCase();
      if (!/^[a-z]{2,3}([-_][a-z0-9]+)*$/.test(v)) {
        throw new QueryError('invalid_field_value', `"${value}" at column ${col} is not a language code (e.g. lang:en)`, col);
      }
      return { t: 'lang', value: normalizeLanguage(v), col };
    }
    const v = normalizeTag(value);
    if (!v) throw new QueryError('empty_field', `"${name}:" at column ${col} needs a value with letters or digits`, col);
    return { t: name, value: v, col };
  }
}

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

// ---------------------------------------------------------------- canonical form

function atomKey(n: AtomNode): string {
  switch (n.type) {
    case 'term':
      return n.field === 'title' ? `title:${n.stem}` : n.stem;
    case 'phrase': {
      const parts: string[] = [];
      for (let i = 0; i < n.stems.length; i++) {
        if (i > 0) for (let g = n.offsets[i] - n.offsets[i - 1]; g > 1; g--) parts.push('*');
        parts.push(n.stems[i]);
      }
      return `${n.field === 'title' ? 'title:' : ''}"${parts.join(' ')}"`;
    }
    case 'tag':
      return `tag:${n.value}`;
    case 'section':
      return `section:${n.value}`;
    case 'lang':
      return `lang:${n.value}`;
  }
}

/**
 * Canonical tree: nested AND/OR flattened, duplicate children removed, children sorted by their
 * canonical key, one-child groups unwrapped, double negations removed. Returns the tree and key.
 */
export function canonicalize(node: QueryNode): { node: QueryNode; key: string } {
  switch (node.type) {
    case 'not': {
      const c = canonicalize(node.child);
      if (c.node.type === 'not') return canonicalize(c.node.child);
      return { node: { type: 'not', child: c.node }, key: `-${c.key}` };
    }
    case 'and':
    case 'or': {
      // groups are small (at most maxTerms atoms): arrays and a linear dedupe beat a Map
      const keys: string[] = [];
      const nodes: QueryNode[] = [];
      for (const k of node.children) collect(node.type, k, keys, nodes);
      if (keys.length === 1) return { node: nodes[0], key: keys[0] };
      const order = keys.map((_, i) => i).sort(byKey.bind(null, keys));
      const children: QueryNode[] = [];
      const sorted: string[] = [];
      for (const i of order) {
        children.push(nodes[i]);
        sorted.push(keys[i]);
      }
      const sep = node.type === 'and' ? ' ' : '|';
      return { node: { type: node.type, children }, key: `(${sorted.join(sep)})` };
    }
    default:
      return { node, key: atomKey(node) };
  }
}

function byKey(keys: string[], a: number, b: number): number {
  return keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0;
}

/** Canonical children of a flattened AND/OR group (duplicates dropped). */
function collect(type: 'and' | 'or', n: QueryNode, keys: string[], nodes: QueryNode[]): void {
  const c = canonicalize(n);
  if (c.node.type === type) {
    for (const k of c.node.children) collect(type, k, keys, nodes);
  } else if (!keys.includes(c.key)) {
    keys.push(c.key);
    nodes.push(c.node);
  }
}

/**
 * Canonical string of a query: equal strings ⇔ the same compiled entry. `Japan nato` and
 * `NATO AND japan` both give `(japan nato)`. Built from stems, not meant to be parsed back.
 */
export function normalizeQuery(node: QueryNode): string {
  return canonicalize(node).key;
}
