/**
 * The topic query language: the tree parseQuery returns (read by the index, the reference
 * evaluator and the database prefilter), its errors and its options.
 *
 *   japan nato                 both terms (implicit AND; the keyword AND is optional)
 *   japan AND nato             the same
 *   nato OR otan, nato | otan  either
 *   "prime minister"           exact phrase (stop words inside keep their place)
 *   -sports, NOT sports        exclusion; also -"exact phrase" and -(a OR b)
 *   (a OR b) c                 grouping
 *   tag:ukraine  section:world  lang:de  title:nato  title:"arms deal"
 *
 * Parsing is query-syntax.ts (tokens, precedence), then query-parse.ts (folding, stemming, stop
 * words, language, the rule that every query needs a positive term); the canonical form, which
 * decides when two queries are the same, is query-canonical.ts.
 */

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
