import type { Config } from './config/index.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { createLogger, type Logger } from './logger.js';
import { systemClock, type Clock } from './clock.js';
import { JobRegistry } from './jobs/registry.js';
import { createRepositories, type Repositories } from './repositories/index.js';
import { MatcherService } from './services/matcher.js';
import { TokenService } from './services/tokens.js';
import { TopicService } from './services/topics.js';
import { ArticleService } from './services/articles.js';
import { FeedService } from './services/feeds.js';
import { DemoService } from './services/demo.js';

export interface Services {
  tokens: TokenService;
  topics: TopicService;
  articles: ArticleService;
  feeds: FeedService;
  demo: DemoService;
}

/**
 * Everything the service is made of, built once. Handlers, services and jobs receive what they
 * use from here; none reads process.env or imports a singleton. Tests build one with their own
 * database, clock or logger.
 */
export interface AppContext {
  config: Config;
  logger: Logger;
  clock: Clock;
  database: DatabaseHandle;
  repos: Repositories;
  matcher: MatcherService;
  services: Services;
  jobs: JobRegistry;
  close(): Promise<void>;
}

export interface ContextOverrides {
  logger?: Logger;
  clock?: Clock;
  database?: DatabaseHandle;
}

export async function createContext(config: Config, overrides: ContextOverrides = {}): Promise<AppContext> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const database =
    overrides.database ??
    (await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir, poolSize: config.database.poolSize }));
  const repos = createRepositories(database.db);
  const jobs = new JobRegistry(logger);
  const matcher = new MatcherService({
    topics: repos.topics,
    articles: repos.articles,
    logger,
    maxQueryTerms: config.matching.maxQueryTerms,
    syncIntervalMs: config.matching.topicSyncIntervalMs,
    pool: database.pool,
  });
  const articles = new ArticleService(repos, matcher, clock);
  const topics = new TopicService(repos, matcher, clock, { maxQueryTerms: config.matching.maxQueryTerms, testDays: config.matching.topicTestDays });
  const services: Services = {
    tokens: new TokenService(repos, clock),
    topics,
    articles,
    feeds: new FeedService(repos, articles, clock, logger, {
      pollMinutes: config.feeds.pollMinutes,
      userAgent: `topic-alerts (+${config.http.baseUrl})`,
    }),
    demo: new DemoService(topics, articles, repos),
  };

  let closed = false;
  return {
    config,
    logger,
    clock,
    database,
    repos,
    matcher,
    services,
    jobs,
    async close() {
      if (closed) return;
      closed = true;
      await jobs.stop();
      await matcher.stop();
      await database.close();
    },
  };
}
