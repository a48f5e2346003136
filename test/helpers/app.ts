import { createServer, type AddressInfo } from 'node:net';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import type { DestinationStream } from 'pino';
import { ManualClock } from '../../src/clock.js';
import { startService, type RunningService } from '../../src/runtime.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface TestApp {
  url: string;
  service: RunningService;
  ctx: RunningService['ctx'];
  config: Config;
  db: TestDatabase;
  clock: ManualClock;
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The service on this file's own database, listening on a free loopback port. Only the web role
 * runs unless asked: tests drive jobs explicitly with a controlled clock.
 */
export async function startTestApp(env: Record<string, string> = {}, opts: { logDestination?: DestinationStream } = {}): Promise<TestApp> {
  const db = await createTestDatabase();
  // Links in mail and pages must point at the real port, so pick it before the config is built.
  const port = await freePort();
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MIGRATE_ON_START: 'false',
    ROLES: 'web',
    // Prompt counts are buffered for a second in production; tests read them at once.
    PROMPT_COUNT_FLUSH_MS: '0',
    ...env,
  });
  const clock = new ManualClock(new Date());
  const service = await startService(config, { database: db, clock, logger: createLogger(config.logLevel, opts.logDestination) });
  const url = service.url!;
  return {
    url,
    service,
    ctx: service.ctx,
    config,
    db,
    clock,
    close: () => service.stop(),
    // service.stop() closes the context, which closes (and on PostgreSQL drops) the database.
  };
}
