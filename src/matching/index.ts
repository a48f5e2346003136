/**
 * The matching folder's public face: what other folders (services, bench, tests) import. The
 * query language is query*.ts, text analysis text.ts, article preparation article.ts, the
 * percolator topic-index*.ts.
 */
export { toTsQueryPrefilter } from './pg.js';
export { evaluate } from './reference.js';
export { QueryError } from './query.js';
export type * from './query.js';
export { parseQuery } from './query-parse.js';
export { normalizeQuery } from './query-canonical.js';
export { prepareArticle, tokenize, searchText, frequencyKeys } from './article.js';
export type { PreparedArticle, ArticleInput } from './article.js';
export { foldText, foldWords, normalizeTag, ENGLISH_STOP_WORDS } from './text.js';
export { TopicIndex, type TopicIndexOptions, type TopicIndexStats } from './topic-index.js';
