import type { Kysely } from 'kysely';
import type { Database } from '../db/types.js';
import { AdminRepository } from './admin.js';
import { ArticlesRepository } from './articles.js';
import { AuditRepository } from './audit.js';
import { BouncesRepository } from './bounces.js';
import { ConfirmationRequestsRepository } from './confirmation-requests.js';
import { ConsentEventsRepository } from './consent-events.js';
import { DeliveriesRepository } from './deliveries.js';
import { DigestsRepository } from './digests.js';
import { FeedsRepository } from './feeds.js';
import { OutboxRepository } from './outbox.js';
import { PromptCountsRepository } from './prompt-counts.js';
import { SettingsRepository } from './settings.js';
import { StoriesRepository } from '../stories/repository.js';
import { TextOverridesRepository } from '../i18n/repository.js';
import { WebhooksRepository } from '../webhooks/repository.js';
import { HistoryRepository } from '../history/repository.js';
import { StatsRepository } from './stats.js';
import { SubscribersRepository } from './subscribers.js';
import { SubscriptionsRepository } from './subscriptions.js';
import { SuppressionsRepository } from './suppressions.js';
import { SystemRepository } from './system.js';
import { TermsRepository } from './terms.js';
import { TokensRepository } from './tokens.js';
import { TopicsRepository } from './topics.js';

// One repository per table (or aggregate written together), named after it. Only these files
// touch Kysely; services receive them bound to the pool or to one transaction.

export interface Repositories {
  system: SystemRepository;
  topics: TopicsRepository;
  articles: ArticlesRepository;
  feeds: FeedsRepository;
  tokens: TokensRepository;
  audit: AuditRepository;
  subscribers: SubscribersRepository;
  subscriptions: SubscriptionsRepository;
  consentEvents: ConsentEventsRepository;
  confirmationRequests: ConfirmationRequestsRepository;
  deliveries: DeliveriesRepository;
  digests: DigestsRepository;
  bounces: BouncesRepository;
  terms: TermsRepository;
  suppressions: SuppressionsRepository;
  promptCounts: PromptCountsRepository;
  outbox: OutboxRepository;
  settings: SettingsRepository;
  stories: StoriesRepository;
  textOverrides: TextOverridesRepository;
  webhooks: WebhooksRepository;
  /** The partitions of the history tables (src/history). */
  history: HistoryRepository;
  admin: AdminRepository;
  /** Read-only figures across tables for the console and the stats API. */
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
    subscriptions: new SubscriptionsRepository(db),
    consentEvents: new ConsentEventsRepository(db),
    confirmationRequests: new ConfirmationRequestsRepository(db),
    deliveries: new DeliveriesRepository(db),
    digests: new DigestsRepository(db),
    bounces: new BouncesRepository(db),
    terms: new TermsRepository(db),
    suppressions: new SuppressionsRepository(db),
    promptCounts: new PromptCountsRepository(db),
    outbox: new OutboxRepository(db),
    settings: new SettingsRepository(db),
    stories: new StoriesRepository(db),
    textOverrides: new TextOverridesRepository(db),
    webhooks: new WebhooksRepository(db),
    history: new HistoryRepository(db),
    admin: new AdminRepository(db),
    stats: new StatsRepository(db),
    transaction: (fn) => (db.isTransaction ? fn(createRepositories(db)) : db.transaction().execute((trx) => fn(createRepositories(trx)))),
  };
}
