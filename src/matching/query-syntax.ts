/**
 * The query language's syntax: a lexer and a recursive-descent parser to a raw tree of the query
 * as written (query-parse.ts turns it into a QueryNode).
 *
 * Precedence (decided here, tested in test/unit/matching/query.test.ts): like Google and unlike
 * Lucene, OR binds TIGHTER than AND, so `a b OR c` means `a AND (b OR c)`, and so does
 * `a AND b OR c`. NOT / `-` binds tightest: `-a OR b` means `(NOT a) OR b`.
 * Operators are the upper-case words AND, OR, NOT; lower-case "and", "or", "not" are ordinary
 * words (English stop words, so dropped).
 */
import { QueryError, type TextField } from './query.js';
import { normalizeLanguage, normalizeTag } from './text.js';

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

export function lex(input: string): Tok[] {
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

export type Raw =
  | { t: 'text'; text: string; phrase: boolean; field: TextField; col: number }
  | { t: 'tag' | 'section' | 'lang'; value: string; col: number }
  | { t: 'and' | 'or'; kids: Raw[]; col: number }
  | { t: 'not'; kid: Raw; col: number };

const FIELDS = new Set(['tag', 'section', 'lang', 'title']);

export class Parser {
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
