import nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer';

// The sender only sees MailTransport (DESIGN §4.7): SMTP in production, a recording fake in
// unit tests, a no-op in benchmarks. The dev outbox (outbox.ts) implements the same interface.

export interface SendResult {
  messageId: string;
  response: string;
  accepted: string[];
  rejected: string[];
}

export interface MailTransport {
  send(msg: SendMailOptions): Promise<SendResult>;
  verify?(): Promise<void>;
  close(): Promise<void>;
}

export interface SmtpTransportOptions {
  /** One or more relays (`smtp://user:pass@host:587`, `smtps://…`), tried in order. */
  urls: string[];
  pool?: { maxConnections?: number; maxMessages?: number };
  dkim?: { domainName: string; keySelector: string; privateKey: string };
  /** Connection, greeting and socket timeouts in ms; defaults are nodemailer's. */
  timeouts?: { connectionMs?: number; greetingMs?: number; socketMs?: number };
  /** How long a relay that failed to connect is tried last; default 30 s. */
  failoverCooldownMs?: number;
  /** Called when a relay fails to connect and the next one is tried. Never gets credentials. */
  onFailover?: (info: { relay: string; error: Error }) => void;
}

export type SendErrorKind = 'transient' | 'permanent';

interface ErrorLike {
  code?: unknown;
  responseCode?: unknown;
}

// nodemailer's codes for "the connection went away" plus the errno codes it can pass through
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EPROXY',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// retrying will not help: the message or its envelope is wrong
const PERMANENT_CODES = new Set(['EMAILHEADER', 'EMESSAGE', 'EENVELOPE', 'ECONFIG', 'EFILEACCESS', 'EURLACCESS', 'EMAXRECIPIENTS']);

/** True when the relay could not be reached or dropped the connection (try the next relay). */
export function isConnectionError(err: unknown): boolean {
  const e = (err ?? {}) as ErrorLike;
  // 421: the server is closing the channel, the same as a dropped connection
  if (e.responseCode === 421) return true;
  if (typeof e.responseCode === 'number') return false;
  return typeof e.code === 'string' && CONNECTION_CODES.has(e.code);
}

/**
 * Whether a failed send may succeed later. SMTP 4xx, timeouts and connection errors are
 * transient; 5xx replies are permanent (except 503, a session-state error that a new connection
 * clears). Authentication errors are transient although the relay answers 535: they are the
 * operator's to fix, and no recipient should be written off for them. Unknown errors are
 * transient: the sender caps attempts, so the worst case is a few retries.
 */
export function classifySendError(err: unknown): SendErrorKind {
  const e = (err ?? {}) as ErrorLike;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code === 'EAUTH' || code === 'ENOAUTH' || code === 'EOAUTH2') return 'transient';
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500 && e.responseCode < 600 && e.responseCode !== 503) return 'permanent';
    return 'transient';
  }
  if (code && CONNECTION_CODES.has(code)) return 'transient';
  if (code && PERMANENT_CODES.has(code)) return 'permanent';
  return 'transient';
}

function addresses(value: unknown): string[] {
  if (value === undefined || value === null || value === false) return [];
  if (Array.isArray(value)) return value.flatMap(addresses);
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (typeof value === 'object' && 'address' in value) return [String((value as { address: unknown }).address)];
  return [];
}

function recipientsOf(msg: SendMailOptions): string[] {
  const envelopeTo = (msg.envelope as { to?: unknown } | undefined)?.to;
  if (envelopeTo) return addresses(envelopeTo);
  return [...addresses(msg.to), ...addresses(msg.cc), ...addresses(msg.bcc)];
}

function messageIdOf(msg: SendMailOptions): string {
  return typeof msg.messageId === 'string' ? msg.messageId : '';
}

/** A relay's URL without credentials, for logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid url)';
  }
}

/**
 * Headers the DKIM signature covers: nodemailer's default list (RFC 6376's, with both List-*
 * headers) plus Feedback-ID, which Gmail only trusts when signed, and X-Delivery-Ref, which names
 * the delivery in complaint reports.
 */
export const DKIM_SIGNED_HEADERS =
  'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:Content-ID:' +
  'Content-Description:Resent-Date:Resent-From:Resent-Sender:Resent-To:Resent-Cc:Resent-Message-ID:In-Reply-To:References:' +
  'List-Id:List-Help:List-Unsubscribe:List-Unsubscribe-Post:List-Subscribe:List-Post:List-Owner:List-Archive:Feedback-ID:X-Delivery-Ref';

interface Relay {
  label: string;
  mailer: ReturnType<typeof nodemailer.createTransport>;
  downUntil: number;
}

/**
 * Pooled SMTP through one or more relays. A relay that cannot be reached is skipped for the
 * next one; a relay that answers (even 4xx/5xx) has the final say, since another relay would
 * most likely answer the same and trying it risks a duplicate.
 */
export function createSmtpTransport(opts: SmtpTransportOptions): MailTransport {
  if (opts.urls.length === 0) throw new Error('createSmtpTransport needs at least one SMTP URL');
  const cooldown = opts.failoverCooldownMs ?? 30_000;
  const relays: Relay[] = opts.urls.map((url) => ({
    label: redactUrl(url),
    downUntil: 0,
    mailer: nodemailer.createTransport({
      pool: true,
      url,
      maxConnections: opts.pool?.maxConnections ?? 5,
      maxMessages: opts.pool?.maxMessages ?? 100,
      ...(opts.timeouts?.connectionMs !== undefined ? { connectionTimeout: opts.timeouts.connectionMs } : {}),
      ...(opts.timeouts?.greetingMs !== undefined ? { greetingTimeout: opts.timeouts.greetingMs } : {}),
      ...(opts.timeouts?.socketMs !== undefined ? { socketTimeout: opts.timeouts.socketMs } : {}),
      ...(opts.dkim ? { dkim: { headerFieldNames: DKIM_SIGNED_HEADERS, ...opts.dkim } } : {}),
    }),
  }));

  function ordered(now: number): Relay[] {
    // healthy relays first, in configured order; relays in cooldown remain as a last resort
    return [...relays.filter((r) => r.downUntil <= now), ...relays.filter((r) => r.downUntil > now)];
  }

  return {
    async send(msg) {
      let lastError: unknown;
      const candidates = ordered(Date.now());
      for (const [i, relay] of candidates.entries()) {
        try {
          const info = await relay.mailer.sendMail(msg);
          relay.downUntil = 0;
          return {
            messageId: info.messageId ?? messageIdOf(msg),
            response: String(info.response ?? ''),
            accepted: addresses(info.accepted),
            rejected: addresses(info.rejected),
          };
        } catch (err) {
          lastError = err;
          if (!isConnectionError(err)) throw err;
          relay.downUntil = Date.now() + cooldown;
          if (i < candidates.length - 1) opts.onFailover?.({ relay: relay.label, error: err as Error });
        }
      }
      throw lastError;
    },
    async verify() {
      const errors: string[] = [];
      for (const relay of relays) {
        try {
          await relay.mailer.verify();
          return;
        } catch (err) {
          errors.push(`${relay.label}: ${(err as Error).message}`);
        }
      }
      throw new Error(`no SMTP relay reachable: ${errors.join('; ')}`);
    },
    async close() {
      for (const relay of relays) relay.mailer.close();
    },
  };
}

/** Accepts everything and keeps nothing (benchmarks). */
export function createNullTransport(): MailTransport {
  return {
    async send(msg) {
      return { messageId: messageIdOf(msg), response: '250 OK (null transport)', accepted: recipientsOf(msg), rejected: [] };
    },
    async verify() {},
    async close() {},
  };
}

export interface MemoryTransport extends MailTransport {
  /** Every message accepted, in order. */
  readonly messages: SendMailOptions[];
  /** Makes the next send fail with `err` (queue several calls for several failures). */
  failNext(err: Error): void;
  clear(): void;
}

/** Records messages (unit tests). */
export function createMemoryTransport(): MemoryTransport {
  const messages: SendMailOptions[] = [];
  const failures: Error[] = [];
  return {
    messages,
    failNext(err) {
      failures.push(err);
    },
    clear() {
      messages.length = 0;
      failures.length = 0;
    },
    async send(msg) {
      const failure = failures.shift();
      if (failure) throw failure;
      messages.push(msg);
      return { messageId: messageIdOf(msg), response: '250 OK (memory transport)', accepted: recipientsOf(msg), rejected: [] };
    },
    async verify() {},
    async close() {},
  };
}
