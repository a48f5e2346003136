import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';

function problemsOf(env: Record<string, string>): { key: string; message: string }[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('configuration', () => {
  it('needs nothing set in development', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.database.url).toBeUndefined();
    expect(config.database.pgliteDir).toBe('./var/pglite');
    expect(config.roles).toEqual(['web', 'worker']);
    expect(config.http.baseUrl).toBe('http://localhost:3000');
    expect(config.consentMode).toBe('checkbox');
    expect(config.database.migrateOnStart).toBe(true);
    expect(config.mail.smtpUrls).toEqual([]);
  });

  it('lists every bad key in one error', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      BASE_URL: 'not a url',
      DATABASE_URL: 'mysql://x',
      SECRET_KEY: 'short',
      CONSENT_MODE: 'maybe',
      DEFAULT_TIMEZONE: 'Mars/Olympus',
      ROLES: 'web,cook',
      MIGRATE_ON_START: 'perhaps',
      SMTP_URL: 'http://relay',
      MAIL_FROM: 'nobody',
    });
    expect(problems.map((p) => p.key).sort()).toEqual(
      ['BASE_URL', 'CONSENT_MODE', 'DATABASE_URL', 'DEFAULT_TIMEZONE', 'MAIL_FROM', 'MIGRATE_ON_START', 'PORT', 'ROLES', 'SECRET_KEY', 'SMTP_URL'].sort(),
    );
    for (const p of problems) expect(p.message.length).toBeGreaterThan(5);
  });

  it('formats one message naming every variable, with no stack trace in it', () => {
    try {
      loadConfig({ PORT: '-1', LOG_LEVEL: 'loud' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/^Invalid configuration:/);
      expect(message).toContain('PORT: must be at least 0');
      expect(message).toContain('LOG_LEVEL');
      expect(message).not.toMatch(/\n\s+at /);
    }
  });

  it('requires the production variables in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.map((p) => p.key).sort()).toEqual(
      ['BASE_URL', 'DATABASE_URL', 'MAIL_FROM', 'POSTAL_ADDRESS', 'SECRET_KEY', 'SMTP_URL'].sort(),
    );
    expect(problems.every((p) => p.message.includes('NODE_ENV=production'))).toBe(true);
  });

  it('accepts a complete production configuration', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      SECRET_KEY: 'x'.repeat(32),
      BASE_URL: 'https://alerts.example.com/',
      DATABASE_URL: 'postgres://db/alerts',
      SMTP_URL: 'smtp://relay-a:587, smtps://relay-b:465',
      MAIL_FROM: 'alerts@example.com',
      POSTAL_ADDRESS: '1 Example Street, London',
      ROLES: 'worker',
    });
    expect(config.isProduction).toBe(true);
    expect(config.http.baseUrl).toBe('https://alerts.example.com');
    expect(config.mail.smtpUrls).toEqual(['smtp://relay-a:587', 'smtps://relay-b:465']);
    expect(config.roles).toEqual(['worker']);
  });

  it('takes MAIL_FROM as an RFC 5322 mailbox: a display name, a quoted one, or a bare address', () => {
    expect(loadConfig({ MAIL_FROM: 'Example News <alerts@news.example>' }).mail).toMatchObject({ from: { name: 'Example News', address: 'alerts@news.example' }, domain: 'news.example' });
    expect(loadConfig({ MAIL_FROM: '"News, Inc." <alerts@news.example>' }).mail.from).toEqual({ name: 'News, Inc.', address: 'alerts@news.example' });
    // No name given: the publisher's name is the display name.
    expect(loadConfig({ MAIL_FROM: 'alerts@news.example', PUBLISHER_NAME: 'Daily Bugle' }).mail.from).toEqual({ name: 'Daily Bugle', address: 'alerts@news.example' });
    expect(loadConfig({ MAIL_FROM: '<alerts@news.example>' }).mail.from.address).toBe('alerts@news.example');
    expect(loadConfig({}).mail.from).toEqual({ name: 'Topic Alerts', address: 'alerts@localhost' });
    for (const bad of ['nobody', 'Example News <nobody>', 'a@news.example, b@news.example', 'Example News']) {
      expect(problemsOf({ MAIL_FROM: bad }).map((p) => p.key), bad).toEqual(['MAIL_FROM']);
    }
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: ' ' }).http.port).toBe(3000);
  });

  it('reads the deliverability settings: the bounces role needs a bounce domain, rates are percentages', () => {
    expect(problemsOf({ ROLES: 'web,bounces' })).toEqual([{ key: 'BOUNCE_DOMAIN', message: 'is required when ROLES includes bounces' }]);
    expect(problemsOf({ ROLES: 'mail' }).map((p) => p.key)).toEqual(['ROLES']);
    const c = loadConfig({ ROLES: 'bounces', BOUNCE_DOMAIN: 'bounces.news.example', MAIL_FROM: 'alerts@news.example', COMPLAINT_RATE_THRESHOLD: '0.3' });
    expect(c.roles).toEqual(['bounces']);
    expect(c.deliverability).toMatchObject({
      listener: { host: '0.0.0.0', port: 2525, maxBytes: 10_485_760, ratePerMinute: 600 },
      complaintsAddress: 'complaints@bounces.news.example',
      feedbackSenderId: 'news.example',
      complaintRateThreshold: 0.003,
      hardBounceRateThreshold: 0.02,
      windowMs: 86_400_000,
      windowDeliveries: 1000,
    });
    expect(loadConfig({ COMPLAINTS_ADDRESS: 'fbl@news.example' }).deliverability.complaintsAddress).toBe('fbl@news.example');
    expect(problemsOf({ FEEDBACK_SENDER_ID: 'a:b', COMPLAINT_RATE_THRESHOLD: '0' }).map((p) => p.key)).toEqual(['COMPLAINT_RATE_THRESHOLD', 'FEEDBACK_SENDER_ID']);
  });
});
