/**
 * PostgreSQL helpers for forward search ("which stored articles match this query?").
 *
 * The article's search vector is `to_tsvector('simple', searchText(prepared))` — our own stems
 * joined by spaces — so the database sees exactly the stems the matcher sees.
 */
import type { QueryNode } from './query.js';

const lexeme = (s: string): string => `'${s.replace(/'/g, "''")}'`;

function prefilter(node: QueryNode): string | null {
  switch (node.type) {
    case 'term':
      return lexeme(node.stem);
    case 'phrase':
      return node.stems.length === 1 ? lexeme(node.stems[0]) : `(${node.stems.map(lexeme).join(' & ')})`;
    case 'and': {
      const parts = node.children.map(prefilter).filter((p): p is string => p !== null);
      if (parts.length === 0) return null;
      return parts.length === 1 ? parts[0] : `(${parts.join(' & ')})`;
    }
    case 'or': {
      const parts: string[] = [];
      for (const c of node.children) {
        const p = prefilter(c);
        if (p === null) return null; // one alternative cannot be filtered: neither can the OR
        parts.push(p);
      }
      return parts.length === 1 ? parts[0] : `(${parts.join(' | ')})`;
    }
    default:
      // negations and tag:/section:/lang: are left to the exact verification
      return null;
  }
}

/**
 * A tsquery string for `to_tsquery('simple', …)` that every article matching `node` satisfies
 * (a superset filter: phrases become `&`, negations and fields are dropped), or null when no
 * text condition can be derived (e.g. `tag:ukraine`). Verify the rows with `evaluate`.
 */
export function toTsQueryPrefilter(node: QueryNode): string | null {
  return prefilter(node);
}
