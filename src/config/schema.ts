import { z } from 'zod';
import { LANGUAGES } from '../i18n/languages.js';
import addressparser from 'nodemailer/lib/addressparser';
import { isTimeZone } from '../time-zone.js';

// One schema for the whole environment. Every variable is read here and nowhere else;
// the rest of the code receives the parsed, typed `Config`.

const bool = (defaultValue: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (defaultValue: number, min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` })
    .default(defaultValue);

const list = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    );

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A duration such as 90s, 30m, 12h or 7d, in milliseconds. */
const duration = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .refine((v) => /^\d+[smhd]$/.test(v), { error: 'must be a duration such as 30m, 12h or 7d' })
    .transform((v) => Number(v.slice(0, -1)) * UNITS[v.slice(-1)]!);

const httpUrl = z
  .string()
  .url({ error: 'must be an absolute URL such as https://alerts.example.com' })
  .refine((v) => /^https?:\/\//.test(v), { error: 'must start with http:// or https://' })
  .transform((v) => v.replace(/\/+$/, ''));

const timeZone = z.string().refine(isTimeZone, { error: 'must be an IANA time zone such as Europe/London' });

const emailAddress = z.email();

/**
 * An RFC 5322 mailbox, as operators write a sender: `Example News <alerts@news.example>`,
 * `"News, Inc." <alerts@news.example>` or a bare address. The name is empty when none is given
 * (the publisher's name stands in); the address part is what envelopes and VERP use.
 */
const mailbox = z.string().transform((value, ctx) => {
  const parsed = addressparser(value.trim(), { flatten: true });
  const one = parsed.length === 1 ? parsed[0] : undefined;
  if (!one || !emailAddress.safeParse(one.address).success || /[\r\n]/.test(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be an email address, optionally with a name: "Example News <alerts@news.example>"' });
    return z.NEVER;
  }
  return { name: one.name.trim(), address: one.address };
});

export const ROLE_NAMES = ['web', 'worker', 'bounces'] as const;
export type Role = (typeof ROLE_NAMES)[number];

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], { error: 'must be development, production or test' }).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(3000, 0, 65535),
  BASE_URL: httpUrl.optional(),
  DATABASE_URL: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\//.test(v), { error: 'must be a postgres:// URL' })
    .optional(),
  PGLITE_DIR: z.string().min(1).default('./var/pglite'),
  TEMPLATE_CACHE_DIR: z.string().min(1).default('./var/cache'),
  DATABASE_POOL_SIZE: int(10, 1, 200),
  MIGRATE_ON_START: bool(true),
  SECRET_KEY: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  SMTP_URL: z
    .string()
    .refine((v) => v.split(',').every((u) => /^smtps?:\/\/\S+$/.test(u.trim())), {
      error: 'must be one or more smtp:// or smtps:// URLs separated by commas',
    })
    .optional(),
  MAIL_FROM: mailbox.optional(),
  PUBLISHER_NAME: z.string().min(1).max(200).default('Topic Alerts'),
  POSTAL_ADDRESS: z.string().min(1).max(500).optional(),
  ALLOWED_ORIGINS: list(''),
  CONSENT_MODE: z.enum(['checkbox', 'statement'], { error: 'must be checkbox or statement' }).default('checkbox'),
  DEFAULT_TIMEZONE: timeZone.default('UTC'),
  DEFAULT_LANGUAGE: z.enum(LANGUAGES, { error: `must be one of ${LANGUAGES.join(', ')}` }).default('en'),
  ROLES: list('web,worker').pipe(
    z
      .array(z.enum(ROLE_NAMES, { error: 'each role must be web, worker or bounces' }))
      .min(1, { error: 'must name at least one role: web, worker, bounces' }),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  JSON_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, { error: 'must be a size such as 100kb or 1mb' })
    .default('100kb'),
  SHUTDOWN_TIMEOUT_MS: int(8000, 100, 60000),
  TRUST_PROXY: z.string().default('loopback'),
  QUERY_MAX_TERMS: int(32, 1, 1000),
  FEED_POLL_MINUTES: int(15, 1, 1440),
  TOPIC_SYNC_INTERVAL_MS: int(2000, 100, 600000),
  TOPIC_TEST_DAYS: int(30, 1, 3650),
  DEMO_SEED: bool(true),
  CONFIRM_TTL: duration('7d'),
  PENDING_TTL: duration('7d'),
  MANAGE_TTL: duration('30d'),
  UNSUBSCRIBE_TTL: duration('365d'),
  PROMPT_SNOOZE_DAYS: int(30, 1, 3650),
  PROMPT_MAX_TOPICS: int(3, 1, 20),
  PROMPT_COUNT_FLUSH_MS: int(1000, 0, 60000),
  PROMPT_DEFAULT_TOPICS: list(''),
  SIGNUP_RATE_LIMIT: int(10, 1, 100000),
  CONFIRM_MAIL_DAILY_LIMIT: int(3, 1, 100),
  DECLINE_QUIET_DAYS: int(30, 0, 3650),
  SEND_BATCH_SIZE: int(50, 1, 5000),
  SEND_LEASE_SECONDS: int(120, 5, 3600),
  SEND_MAX_ATTEMPTS: int(8, 1, 50),
  SEND_RETRY_BASE_SECONDS: int(30, 1, 3600),
  SEND_INTERVAL_SECONDS: int(5, 1, 3600),
  BOUNCE_DOMAIN: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, { error: 'must be a domain such as bounces.example.com' }).optional(),
  UNSUBSCRIBE_MAILTO: z.email({ error: 'must be an email address' }).optional(),
  INSTANT_BATCH_MINUTES: int(5, 1, 1440),
  MAX_ITEMS_PER_DIGEST: int(20, 1, 500),
  SCHEDULER_CRON: z.string().default('* * * * *'),
  SCHEDULER_BATCH_SIZE: int(1000, 10, 100000),
  SEND_RATE_PER_SECOND: z.coerce.number({ error: 'must be a number' }).min(0).max(100000).default(0),
  SEND_CONCURRENCY: int(8, 1, 256),
  SMTP_POOL_CONNECTIONS: int(5, 1, 100),
  DKIM_DOMAIN: z.string().min(3).optional(),
  DKIM_SELECTOR: z.string().min(1).optional(),
  DKIM_PRIVATE_KEY: z.string().min(20, { error: 'must be a PEM private key or a path to one' }).optional(),
  STORIES_ENABLED: bool(true),
  STORY_WINDOW: duration('7d'),
  STORY_THRESHOLD: z.coerce.number({ error: 'must be a number' }).gt(0, { error: 'must be above 0' }).max(1, { error: 'must be at most 1' }).default(0.45),
  QUIET_HOURS: z
    .string()
    .regex(/^([01]?\d|2[0-3])-([01]?\d|2[0-3])$/, { error: 'must be START-END hours such as 22-7' })
    .optional(),
  INSTANT_DAILY_CAP: int(0, 0, 1000),
  // The deliverability loop (src/deliverability): inbound bounces and complaints, reputation.
  INBOUND_SMTP_HOST: z.string().min(1).default('0.0.0.0'),
  INBOUND_SMTP_PORT: int(2525, 0, 65535),
  INBOUND_MAX_BYTES: int(10_485_760, 1024, 104_857_600),
  INBOUND_RATE_LIMIT: int(600, 1, 100000),
  COMPLAINTS_ADDRESS: z.email({ error: 'must be an email address' }).optional(),
  FEEDBACK_SENDER_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be letters, digits, dots, dashes or underscores (no colon)' }).optional(),
  COMPLAINT_RATE_THRESHOLD: z.coerce.number({ error: 'must be a percentage such as 0.1' }).gt(0).max(100).default(0.1),
  HARD_BOUNCE_RATE_THRESHOLD: z.coerce.number({ error: 'must be a percentage such as 2' }).gt(0).max(100).default(2),
  REPUTATION_WINDOW: duration('1d'),
  REPUTATION_WINDOW_DELIVERIES: int(1000, 1, 10_000_000),
  REPUTATION_MIN_DELIVERIES: int(100, 1, 10_000_000),
  DNS_SERVERS: list(''),
  ADMIN_SESSION_TTL: duration('12h'),
  ADMIN_LOGIN_ATTEMPTS: int(5, 1, 1000),
  WEBHOOK_ALLOW_PRIVATE: bool(false),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('30s,2m,10m,30m,1h,2h,4h,8h,8h')
    .refine((v) => v.split(',').every((d) => /^\d+[smhd]$/.test(d.trim())), { error: 'must be durations such as 30s,2m,1h, comma-separated' })
    .transform((v) => v.split(',').map((d) => Number(d.trim().slice(0, -1)) * UNITS[d.trim().slice(-1)]!)),
  WEBHOOK_TIMEOUT: duration('10s'),
  WEBHOOK_SECRET_GRACE: duration('24h'),
  WEBHOOK_INTERVAL_SECONDS: int(5, 1, 3600),
  WEBHOOK_CONCURRENCY: int(8, 1, 256),
  WEBHOOK_LEASE_SECONDS: int(60, 5, 3600),
  // Partitioned history (src/history). Claims must outlive the longest look-back (15 days) by a
  // month: digests never offer an article first seen before the claims' horizon.
  DELIVERY_RETENTION: duration('180d').refine((ms) => ms >= 31 * 86_400_000, { error: 'must be at least 31d' }),
  SENT_CLAIMS_RETENTION: duration('180d').refine((ms) => ms >= 46 * 86_400_000, { error: 'must be at least 46d (the weekly look-back of 15 days and a month)' }),
  CONSENT_RETENTION_AFTER_END: duration('1095d').refine((ms) => ms >= 31 * 86_400_000, { error: 'must be at least 31d' }),
  PARTITION_MONTHS_AHEAD: int(2, 1, 24),
});

// Variables that must be set explicitly in production: development defaults for them are
// convenient but unsafe (a known secret, a localhost URL, an outbox instead of SMTP).
export const PRODUCTION_REQUIRED = [
  'SECRET_KEY',
  'BASE_URL',
  'DATABASE_URL',
  'SMTP_URL',
  'MAIL_FROM',
  'POSTAL_ADDRESS',
] as const;

export type Env = z.output<typeof envSchema>;
