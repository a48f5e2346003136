import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import { ArticlesRepository } from './articles.js';
import { AuditRepository } from './audit.js';
import { FeedsRepository } from './feeds.js';
import { SystemRepository } from './system.js';
import { TokensRepository } from './tokens.js';
import { TopicsRepository } from './topics.js';
import { SubscribersRepository } from './subscribers.js';
import { DeliveriesRepository } from './deliveries.js';
import { DigestsRepository } from './digests.js';
import { OutboxRepository, PromptCountsRepository, SuppressionsRepository, TermsRepository } from './misc.js';
import { AdminRepository } from './admin.js';
import { StatsRepository } from './stats.js';

export interface Repositories {
  system: SystemRepository;
  topics: TopicsRepository;
  articles: ArticlesRepository;
  feeds: FeedsRepository;
  tokens: TokensRepository;
  audit: AuditRepository;
  subscribers: SubscribersRepository;
  deliveries: DeliveriesRepository;
  digests: DigestsRepository;
  terms: TermsRepository;
  suppressions: SuppressionsRepository;
  promptCounts: PromptCountsRepository;
  outbox: OutboxRepository;
  admin: AdminRepository;
  stats: StatsRepository;
  /** Runs `fn` with repositories bound to one transaction: all of it commits, or none. */
  transaction<T>(fn: (repos: Repositories) => Promise<T>): Promise<T>;
}

export function createRepositories(db: Kysely<Database>): Repositories {
  return {
    system: new SystemRepository(db),
    topics: new TopicsRepository(db),
    articles: new ArticlesRepository(db),
    feeds: new FeedsRepository(db),
    tokens: new TokensRepository(db),
    audit: new AuditRepository(db),
    subscribers: new SubscribersRepository(db),
    deliveries: new DeliveriesRepository(db),
    digests: new DigestsRepository(db),
    terms: new TermsRepository(db),
    suppressions: new SuppressionsRepository(db),
    promptCounts: new PromptCountsRepository(db),
    outbox: new OutboxRepository(db),
    admin: new AdminRepository(db),
    stats: new StatsRepository(db),
    transaction: (fn) => (db.isTransaction ? fn(createRepositories(db)) : db.transaction().execute((trx) => fn(createRepositories(trx)))),
  };
}
