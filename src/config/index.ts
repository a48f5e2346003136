import type { Language } from '../i18n/languages.js';
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import cron from 'node-cron';
import { envSchema, PRODUCTION_REQUIRED, type Env, type Role } from './schema.js';

export type { Role } from './schema.js';

export interface Config {
  env: Env['NODE_ENV'];
  isProduction: boolean;
  http: { host: string; port: number; baseUrl: string; jsonBodyLimit: string; trustProxy: string; allowedOrigins: string[] };
  database: { url: string | undefined; pgliteDir: string; poolSize: number; migrateOnStart: boolean };
  secretKey: string;
  mail: {
    smtpUrls: string[];
    /** The sender: display name (PUBLISHER_NAME when MAIL_FROM names none) and address. */
    from: { name: string; address: string };
    /** The sender address's domain: Message-IDs and List-Id are made from it. */
    domain: string;
    publisherName: string; postalAddress: string; templateCacheDir: string };
  consentMode: Env['CONSENT_MODE'];
  defaultTimeZone: string;
  /** The language of readers whose box, page or browser names none we have (DEFAULT_LANGUAGE). */
  defaultLanguage: Language;
  roles: Role[];
  logLevel: Env['LOG_LEVEL'];
  shutdownTimeoutMs: number;
  matching: { maxQueryTerms: number; topicSyncIntervalMs: number; topicTestDays: number };
  feeds: { pollMinutes: number };
  /** Development only: seed demo topics and the fixture article into an empty database. */
  demoSeed: boolean;
  lifecycle: {
    confirmTtlMs: number;
    pendingTtlMs: number;
    manageTtlMs: number;
    unsubscribeTtlMs: number;
    promptSnoozeDays: number;
    promptMaxTopics: number;
    promptCountFlushMs: number;
    promptDefaultTopics: string[];
    signupRateLimitPerMinute: number;
    confirmMailDailyLimit: number;
    declineQuietDays: number;
  };
  sending: {
    batchSize: number;
    leaseMs: number;
    maxAttempts: number;
    retryBaseMs: number;
    intervalSeconds: number;
    bounceDomain: string | undefined;
    unsubscribeMailto: string | undefined;
    ratePerSecond: number;
    concurrency: number;
    poolConnections: number;
    dkim: { domainName: string; keySelector: string; privateKey: string } | undefined;
  };
  digests: { instantBatchMinutes: number; maxItems: number; cron: string; batchSize: number };
  /** Syndicated copies of one event are one story (src/stories). */
  stories: { enabled: boolean; windowMs: number; threshold: number };
  /** The publisher's defaults for a reader who set none: quiet hours (local), instant alerts a day (0: no cap). */
  attention: { quietHours: { start: number; end: number } | null; instantDailyCap: number };
  /** Inbound bounces and complaints, and the reputation watch (src/deliverability). */
  deliverability: {
    listener: { host: string; port: number; maxBytes: number; ratePerMinute: number };
    /** Where ARF complaint reports arrive (COMPLAINTS_ADDRESS, default complaints@BOUNCE_DOMAIN). */
    complaintsAddress: string | undefined;
    /** The last field of every Feedback-ID header (Gmail's SenderId). */
    feedbackSenderId: string;
    /** Rates as fractions (the environment gives percentages). */
    complaintRateThreshold: number;
    hardBounceRateThreshold: number;
    windowMs: number;
    windowDeliveries: number;
    minDeliveries: number;
    /** mail:check asks these DNS servers (host or host:port); empty: the system's. */
    dnsServers: string[];
  };
  /** Outgoing webhooks (src/webhooks): retry delays after each failed attempt, then the endpoint is disabled. */
  webhooks: { allowPrivate: boolean; retryScheduleMs: number[]; timeoutMs: number; secretGraceMs: number; intervalSeconds: number; concurrency: number; leaseMs: number };
  /**
   * Partitioned history (src/history): how long deliveries and the sent-article and story claims
   * are kept, how long consent events outlive the end of their subscriber's subscriptions, and
   * how many months of partitions the worker keeps created ahead.
   */
  history: { deliveryRetentionMs: number; claimsRetentionMs: number; consentRetentionAfterEndMs: number; monthsAhead: number };
  admin: {
    /** How long a console session lasts after login. */
    sessionTtlMs: number;
    /** Failed logins per account per 15 minutes (per IP address: four times as many). */
    loginAttempts: number;
    /** Secure cookies: BASE_URL is https. */
    secureCookies: boolean;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: { key: string; message: string }[]) {
    super(
      'Invalid configuration:\n' +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join('\n') +
        '\nSet these in the environment or in .env (see .env.example).',
    );
    this.name = 'ConfigError';
  }
}

// Development only: a fixed, publicly known key so that links survive restarts on a laptop.
// Production refuses to start without its own SECRET_KEY.
const DEV_SECRET_KEY = 'dev-only-insecure-secret-key-change-me-0000';

/** Reads `.env` (if present) under the real environment: real variables win. */
export function readEnvironment(processEnv: NodeJS.ProcessEnv = process.env, dotenvPath = '.env'): Record<string, string | undefined> {
  const fromFile = existsSync(dotenvPath) ? parseDotenv(readFileSync(dotenvPath)) : {};
  return { ...fromFile, ...processEnv };
}

/**
 * Parses the environment once. Throws one ConfigError listing every bad or missing variable.
 * Empty strings count as unset, so `FOO=` in .env falls back to the default.
 */
export function loadConfig(raw: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = raw[key];
    if (value !== undefined && value.trim() !== '') input[key] = value.trim();
  }

  const parsed = envSchema.safeParse(input);
  const problems: { key: string; message: string }[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '(environment)');
      // One line per variable: the first reason is the one to fix first.
      if (!problems.some((p) => p.key === key)) problems.push({ key, message: issue.message });
    }
  }
  if ((input.NODE_ENV ?? 'development') === 'production') {
    for (const key of PRODUCTION_REQUIRED) {
      if (input[key] === undefined && !problems.some((p) => p.key === key)) problems.push({ key, message: 'is required when NODE_ENV=production' });
    }
  }
  if (problems.length > 0 || !parsed.success) {
    problems.sort((a, b) => a.key.localeCompare(b.key));
    throw new ConfigError(problems);
  }

  const e = parsed.data;
  // DKIM: all three or none; the key may be given inline (PEM, \n-escaped) or as a file path.
  const dkimSet = [e.DKIM_DOMAIN, e.DKIM_SELECTOR, e.DKIM_PRIVATE_KEY].filter((v) => v !== undefined).length;
  let dkimKey: string | undefined;
  if (e.DKIM_PRIVATE_KEY) {
    const raw = e.DKIM_PRIVATE_KEY.replace(/\\n/g, '\n');
    dkimKey = raw.includes('PRIVATE KEY') ? raw : existsSync(raw) ? readFileSync(raw, 'utf8') : undefined;
  }
  const late: { key: string; message: string }[] = [];
  if (dkimSet > 0 && dkimSet < 3) late.push({ key: 'DKIM_DOMAIN', message: 'DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY must be set together' });
  if (e.DKIM_PRIVATE_KEY && !dkimKey) late.push({ key: 'DKIM_PRIVATE_KEY', message: 'is neither a PEM private key nor a readable file' });
  if (!cron.validate(e.SCHEDULER_CRON)) late.push({ key: 'SCHEDULER_CRON', message: 'must be a cron expression such as "* * * * *"' });
  // The listener accepts only the VERP return path and the complaints address, both made from it.
  if (e.ROLES.includes('bounces') && !e.BOUNCE_DOMAIN) late.push({ key: 'BOUNCE_DOMAIN', message: 'is required when ROLES includes bounces' });
  if (late.length > 0) throw new ConfigError(late);
  const baseUrl = e.BASE_URL ?? `http://localhost:${e.PORT}`;
  const fromAddress = e.MAIL_FROM?.address ?? 'alerts@localhost';
  return {
    env: e.NODE_ENV,
    isProduction: e.NODE_ENV === 'production',
    http: {
      host: e.HOST,
      port: e.PORT,
      baseUrl,
      jsonBodyLimit: e.JSON_BODY_LIMIT,
      trustProxy: e.TRUST_PROXY,
      allowedOrigins: e.ALLOWED_ORIGINS,
    },
    database: {
      url: e.DATABASE_URL,
      pgliteDir: e.PGLITE_DIR,
      poolSize: e.DATABASE_POOL_SIZE,
      migrateOnStart: e.MIGRATE_ON_START,
    },
    secretKey: e.SECRET_KEY ?? DEV_SECRET_KEY,
    mail: {
      smtpUrls: e.SMTP_URL ? e.SMTP_URL.split(',').map((s) => s.trim()) : [],
      // The display name defaults to the publisher's: mail clients show it in the inbox.
      from: { name: e.MAIL_FROM?.name || e.PUBLISHER_NAME, address: fromAddress },
      domain: fromAddress.slice(fromAddress.lastIndexOf('@') + 1),
      publisherName: e.PUBLISHER_NAME,
      postalAddress: e.POSTAL_ADDRESS ?? '(postal address not configured: set POSTAL_ADDRESS)',
      templateCacheDir: e.TEMPLATE_CACHE_DIR,
    },
    consentMode: e.CONSENT_MODE,
    defaultTimeZone: e.DEFAULT_TIMEZONE,
    defaultLanguage: e.DEFAULT_LANGUAGE,
    roles: [...new Set(e.ROLES)],
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    matching: { maxQueryTerms: e.QUERY_MAX_TERMS, topicSyncIntervalMs: e.TOPIC_SYNC_INTERVAL_MS, topicTestDays: e.TOPIC_TEST_DAYS },
    feeds: { pollMinutes: e.FEED_POLL_MINUTES },
    demoSeed: e.DEMO_SEED && e.NODE_ENV === 'development',
    lifecycle: {
      confirmTtlMs: e.CONFIRM_TTL,
      pendingTtlMs: e.PENDING_TTL,
      manageTtlMs: e.MANAGE_TTL,
      unsubscribeTtlMs: e.UNSUBSCRIBE_TTL,
      promptSnoozeDays: e.PROMPT_SNOOZE_DAYS,
      promptMaxTopics: e.PROMPT_MAX_TOPICS,
      promptCountFlushMs: e.PROMPT_COUNT_FLUSH_MS,
      promptDefaultTopics: e.PROMPT_DEFAULT_TOPICS,
      signupRateLimitPerMinute: e.SIGNUP_RATE_LIMIT,
      confirmMailDailyLimit: e.CONFIRM_MAIL_DAILY_LIMIT,
      declineQuietDays: e.DECLINE_QUIET_DAYS,
    },
    sending: {
      batchSize: e.SEND_BATCH_SIZE,
      leaseMs: e.SEND_LEASE_SECONDS * 1000,
      maxAttempts: e.SEND_MAX_ATTEMPTS,
      retryBaseMs: e.SEND_RETRY_BASE_SECONDS * 1000,
      intervalSeconds: e.SEND_INTERVAL_SECONDS,
      bounceDomain: e.BOUNCE_DOMAIN,
      unsubscribeMailto: e.UNSUBSCRIBE_MAILTO,
      ratePerSecond: e.SEND_RATE_PER_SECOND,
      concurrency: e.SEND_CONCURRENCY,
      poolConnections: e.SMTP_POOL_CONNECTIONS,
      dkim:
        e.DKIM_DOMAIN && e.DKIM_SELECTOR && dkimKey
          ? { domainName: e.DKIM_DOMAIN, keySelector: e.DKIM_SELECTOR, privateKey: dkimKey }
          : undefined,
    },
    digests: { instantBatchMinutes: e.INSTANT_BATCH_MINUTES, maxItems: e.MAX_ITEMS_PER_DIGEST, cron: e.SCHEDULER_CRON, batchSize: e.SCHEDULER_BATCH_SIZE },
    stories: { enabled: e.STORIES_ENABLED, windowMs: e.STORY_WINDOW, threshold: e.STORY_THRESHOLD },
    attention: {
      quietHours: e.QUIET_HOURS ? { start: Number(e.QUIET_HOURS.split('-')[0]), end: Number(e.QUIET_HOURS.split('-')[1]) } : null,
      instantDailyCap: e.INSTANT_DAILY_CAP,
    },
    deliverability: {
      listener: { host: e.INBOUND_SMTP_HOST, port: e.INBOUND_SMTP_PORT, maxBytes: e.INBOUND_MAX_BYTES, ratePerMinute: e.INBOUND_RATE_LIMIT },
      complaintsAddress: e.COMPLAINTS_ADDRESS ?? (e.BOUNCE_DOMAIN ? `complaints@${e.BOUNCE_DOMAIN}` : undefined),
      feedbackSenderId: e.FEEDBACK_SENDER_ID ?? fromAddress.slice(fromAddress.lastIndexOf('@') + 1),
      complaintRateThreshold: e.COMPLAINT_RATE_THRESHOLD / 100,
      hardBounceRateThreshold: e.HARD_BOUNCE_RATE_THRESHOLD / 100,
      windowMs: e.REPUTATION_WINDOW,
      windowDeliveries: e.REPUTATION_WINDOW_DELIVERIES,
      minDeliveries: e.REPUTATION_MIN_DELIVERIES,
      dnsServers: e.DNS_SERVERS,
    },
    webhooks: {
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE,
      timeoutMs: e.WEBHOOK_TIMEOUT,
      secretGraceMs: e.WEBHOOK_SECRET_GRACE,
      intervalSeconds: e.WEBHOOK_INTERVAL_SECONDS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      leaseMs: e.WEBHOOK_LEASE_SECONDS * 1000,
    },
    history: {
      deliveryRetentionMs: e.DELIVERY_RETENTION,
      claimsRetentionMs: e.SENT_CLAIMS_RETENTION,
      consentRetentionAfterEndMs: e.CONSENT_RETENTION_AFTER_END,
      monthsAhead: e.PARTITION_MONTHS_AHEAD,
    },
    admin: {
      sessionTtlMs: e.ADMIN_SESSION_TTL,
      loginAttempts: e.ADMIN_LOGIN_ATTEMPTS,
      secureCookies: baseUrl.startsWith('https://'),
    },
  };
}
