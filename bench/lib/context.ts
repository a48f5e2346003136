import { loadConfig } from '../../src/config/index.js';
import { createContext, type AppContext } from '../../src/context.js';
import { ManualClock } from '../../src/clock.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import type { MailTransport } from '../../src/mail/index.js';

/** The service's own context (repositories, composer, sender, scheduler) on a benchmark database. */
export async function benchContext(opts: { url: string; database: DatabaseHandle; transport: MailTransport; now: Date; env?: Record<string, string> }): Promise<{ ctx: AppContext; clock: ManualClock }> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: opts.url,
    BASE_URL: 'https://alerts.news.example',
    SECRET_KEY: 'benchmark-secret-key-0123456789-abcdefghij',
    MAIL_FROM: 'alerts@news.example',
    PUBLISHER_NAME: 'Daily Bugle',
    POSTAL_ADDRESS: '1 Fleet Street, London EC4Y 1AA',
    BOUNCE_DOMAIN: 'bounces.news.example',
    UNSUBSCRIBE_MAILTO: 'unsubscribe@news.example',
    LOG_LEVEL: 'warn',
    ...opts.env,
  });
  const clock = new ManualClock(opts.now);
  const ctx = await createContext(config, { database: opts.database, transport: opts.transport, clock });
  return { ctx, clock };
}
