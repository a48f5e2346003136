import type { Config } from './config/index.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { createLogger, type Logger } from './logger.js';
import { systemClock, type Clock } from './clock.js';
import { JobRegistry } from './jobs/registry.js';
import { createRepositories, type Repositories } from './repositories/index.js';

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

  let closed = false;
  return {
    config,
    logger,
    clock,
    database,
    repos,
    jobs,
    async close() {
      if (closed) return;
      closed = true;
      await jobs.stop();
      await database.close();
    },
  };
}
