/**
 * The canonical form of a query tree: equal canonical forms are one compiled entry in the index,
 * and `normalizeQuery` is how callers tell two topics' queries apart.
 */
import type { AtomNode, QueryNode } from './query.js';

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
