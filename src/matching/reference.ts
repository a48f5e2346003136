/**
 * The plain, obviously-correct query evaluator. The percolator (topic-index.ts) must return exactly
 * the topics this accepts; tests compare the two.
 */
import type { PhraseNode, QueryNode } from './query.js';
import type { PreparedArticle } from './article.js';

function phraseAt(node: PhraseNode, a: PreparedArticle, start: number): boolean {
  for (let i = 0; i < node.stems.length; i++) {
    const p = start + node.offsets[i];
    if (p >= a.tokens.length || a.tokens[p] !== node.stems[i]) return false;
  }
  return true;
}

export function evaluate(node: QueryNode, a: PreparedArticle): boolean {
  switch (node.type) {
    case 'term': {
      const limit = node.field === 'title' ? a.titleEnd : a.tokens.length;
      for (let p = 0; p < limit; p++) if (a.tokens[p] === node.stem) return true;
      return false;
    }
    case 'phrase': {
      const span = node.offsets[node.offsets.length - 1];
      const limit = (node.field === 'title' ? a.titleEnd : a.tokens.length) - span;
      for (let p = 0; p < limit; p++) if (phraseAt(node, a, p)) return true;
      return false;
    }
    case 'tag':
      return a.tags.has(node.value);
    case 'section':
      return a.section === node.value;
    case 'lang':
      return a.language === node.value;
    case 'and':
      return node.children.every((c) => evaluate(c, a));
    case 'or':
      return node.children.some((c) => evaluate(c, a));
    case 'not':
      return !evaluate(node.child, a);
  }
}
