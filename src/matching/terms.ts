/**
 * The stem interner, shared by every TopicIndex, the query parser and article preparation.
 *
 * Stems used by some topic are interned to small integer ids, shared by every TopicIndex, so an
 * index can work on arrays instead of string maps. Articles never intern (a stem no topic uses
 * cannot match), they only look up; `internVersion` changes whenever a stem is added, so a
 * prepared article whose ids are stale can be detected and re-resolved.
 */

const internIds = new Map<string, number>();
const internKeys: string[] = [];
// exported (importers get a live, read-only binding) so that the per-word and per-field
// staleness checks in text.ts and article.ts compare a variable, not a call
export let internVer = 0;

/** Id of `key` (a stem, or a field key from a TopicIndex), interning it if new. */
export function internTerm(key: string): number {
  let id = internIds.get(key);
  if (id === undefined) {
    id = internKeys.length;
    internKeys.push(key);
    internIds.set(key, id);
    internVer++;
  }
  return id;
}
/** Id of `key` or -1 when no topic uses it. */
export function lookupTerm(key: string): number {
  return internIds.get(key) ?? -1;
}
/** The key of an interned id. */
export function termKey(id: number): string {
  return internKeys[id];
}
export function internedCount(): number {
  return internKeys.length;
}
export function internVersion(): number {
  return internVer;
}
