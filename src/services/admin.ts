import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { DomainError, notFound } from '../errors.js';
import type { Repositories } from '../repositories/index.js';
import type { AdminSession, AdminUser } from '../repositories/admin.js';
import type { Subscriber } from '../repositories/subscribers.js';
import type { Suppression } from '../repositories/suppressions.js';
import type { AuditRecord } from '../repositories/audit.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { normalizeEmail, type Links } from './links.js';
import { newMessageId } from './subscriptions.js';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));

// scrypt parameters (OWASP: N=2^17 r=8 p=1 at the top end; 2^15 keeps a login near 50 ms on a
// small VM). They are stored with each hash, so raising them later only affects new hashes.
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keylen: 32 } as const;
const MAXMEM = 128 * SCRYPT.N * SCRYPT.r * 2;

export const MIN_PASSWORD_LENGTH = 12;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: MAXMEM });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Constant-time check of a password against a stored `scrypt$N$r$p$salt$key` hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (!N || !r || !p || expected.length === 0 || N > 2 ** 20) return false;
  const key = await scrypt(password, salt, expected.length, { N, r, p, maxmem: 128 * N * r * 2 });
  return timingSafeEqual(key, expected);
}

function checkPassword(password: string | undefined): void {
  if (password !== undefined && password.length < MIN_PASSWORD_LENGTH) {
    throw new DomainError(400, 'invalid_request', `The password must be at least ${MIN_PASSWORD_LENGTH} characters`, [
      { path: 'password', message: `must be at least ${MIN_PASSWORD_LENGTH} characters` },
    ]);
  }
}

export const sessionHash = (sessionId: string) => createHash('sha256').update(sessionId).digest('hex');

const EMAIL = /^[^\s@]+@[^\s@]+$/;

export interface AdminOptions {
  sessionTtlMs: number;
  confirmTtlMs: number;
  mailDomain: string;
}

export interface LoginResult {
  /** The cookie value: 256 random bits; only its hash is stored. */
  sessionId: string;
  session: AdminSession;
  user: AdminUser;
}

/**
 * The admin console's own rules: accounts with scrypt passwords, database sessions, and the
 * console actions no other service owns (resend a confirmation, suppressions, retrying failed
 * deliveries, revoking tokens). Every change is audited with the acting admin.
 */
export class AdminService {
  // A hash to verify against when the account does not exist, so that a wrong address takes as
  // long as a wrong password (no enumeration of admin accounts by timing).
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly repos: Repositories,
    private readonly links: Links,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: AdminOptions,
  ) {}

  /** Creates an account; a password is generated (and returned, to be shown once) when none is given. */
  async createAdmin(email: string, password: string | undefined, actor: string): Promise<{ user: AdminUser; password: string; generated: boolean }> {
    const address = email.trim();
    if (!EMAIL.test(address) || address.length > 254) throw new DomainError(400, 'invalid_request', 'The admin email address is invalid', [{ path: 'email', message: 'must be an email address' }]);
    checkPassword(password);
    const generated = password === undefined;
    const secret = password ?? randomBytes(18).toString('base64url');
    const hash = await hashPassword(secret);
    const user = await this.repos.transaction(async (r) => {
      const u = await r.admin.insertUser(address, hash);
      if (!u) throw new DomainError(409, 'conflict', `An admin with the address ${address} already exists`, [{ path: 'email', message: 'already exists' }]);
      await r.audit.record({ actor, action: 'admin.create', target: `admin:${u.email}` });
      return u;
    });
    return { user, password: secret, generated };
  }

  /**
   * Sets a new password for an existing account (generated, and returned to be shown once, when
   * none is given) and ends its sessions: whoever knew the old one is logged out.
   */
  async resetPassword(email: string, password: string | undefined, actor: string): Promise<{ user: AdminUser; password: string; generated: boolean; sessionsEnded: number }> {
    checkPassword(password);
    const account = await this.repos.admin.findUserForLogin(email);
    if (!account) throw notFound(`Admin ${email.trim()}`);
    const generated = password === undefined;
    const secret = password ?? randomBytes(18).toString('base64url');
    const hash = await hashPassword(secret);
    const sessionsEnded = await this.repos.transaction(async (r) => {
      await r.admin.setPassword(account.id, hash);
      const ended = await r.admin.deleteSessionsOf(account.id);
      await r.audit.record({ actor, action: 'admin.password_reset', target: `admin:${account.email}`, details: { sessionsEnded: ended } });
      return ended;
    });
    const { passwordHash: _, ...user } = account;
    return { user, password: secret, generated, sessionsEnded };
  }

  /** Development's first start: an account to log in with, only when there is none. */
  async ensureDevelopmentAdmin(): Promise<{ email: string; password: string } | undefined> {
    if ((await this.repos.admin.countUsers()) > 0) return undefined;
    const { user, password } = await this.createAdmin('admin@localhost', undefined, 'system:development');
    return { email: user.email, password };
  }

  listAdmins(): Promise<AdminUser[]> {
    return this.repos.admin.listUsers();
  }

  /** A new session for a correct address and password; undefined otherwise (same time either way). */
  async login(email: string, password: string, meta: { ip: string | null; userAgent: string | null }): Promise<LoginResult | undefined> {
    const account = await this.repos.admin.findUserForLogin(email);
    this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    const ok = await verifyPassword(password, account?.passwordHash ?? (await this.dummyHash));
    if (!account || !ok) return undefined;
    const now = this.clock.now();
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.opts.sessionTtlMs);
    await this.repos.transaction(async (r) => {
      await r.admin.insertSession({ idSha256: sessionHash(sessionId), adminUserId: account.id, csrfToken, ip: meta.ip, userAgent: meta.userAgent?.slice(0, 500) ?? null, now, expiresAt });
      await r.admin.recordLogin(account.id, now);
      // Expired sessions are dead already (lookups check expiry); logins sweep them away.
      await r.admin.deleteExpiredSessions(now);
      await r.audit.record({ actor: `admin:${account.email}`, action: 'admin.login', target: `admin:${account.email}`, details: { ip: meta.ip } });
    });
    const { passwordHash: _, ...user } = account;
    return {
      sessionId,
      user,
      session: { idSha256: sessionHash(sessionId), adminUserId: account.id, email: account.email, csrfToken, createdAt: now, lastSeenAt: now, expiresAt },
    };
  }

  /** The live session a cookie names, or undefined (unknown, expired, or its account deleted). */
  async session(sessionId: string): Promise<AdminSession | undefined> {
    if (!/^[\w-]{43}$/.test(sessionId)) return undefined;
    const now = this.clock.now();
    const session = await this.repos.admin.findLiveSession(sessionHash(sessionId), now);
    if (session) await this.repos.admin.touchSession(session.idSha256, now);
    return session;
  }

  async logout(session: AdminSession): Promise<void> {
    await this.repos.transaction(async (r) => {
      await r.admin.deleteSession(session.idSha256);
      await r.audit.record({ actor: `admin:${session.email}`, action: 'admin.logout', target: `admin:${session.email}` });
    });
  }

  purgeExpiredSessions(): Promise<number> {
    return this.repos.admin.deleteExpiredSessions(this.clock.now());
  }

  /**
   * Queues a new confirmation mail for the subscriber's pending topics (as a signup would), for
   * a reader who lost the first one. Nothing is queued for a suppressed address or one with
   * nothing pending. The per-address daily limit does not apply: an admin asked for it.
   */
  async resendConfirmation(subscriberId: number, actor: string): Promise<{ queued: boolean; reason?: 'nothing-pending' | 'suppressed'; topics: number }> {
    const now = this.clock.now();
    return this.repos.transaction(async (r) => {
      const subscriber = await r.subscribers.findById(subscriberId);
      if (!subscriber) throw notFound(`Subscriber ${subscriberId}`);
      const { topicIds, frequency } = await r.subscriptions.pending(subscriber.id);
      if (topicIds.length === 0) return { queued: false, reason: 'nothing-pending' as const, topics: 0 };
      if (await r.suppressions.isSuppressed(this.links.signer.emailHash(subscriber.emailNormalized))) return { queued: false, reason: 'suppressed' as const, topics: topicIds.length };
      const requestId = await r.confirmationRequests.create({
        subscriberId: subscriber.id,
        topicIds,
        frequency,
        expiresAt: new Date(now.getTime() + this.opts.confirmTtlMs),
        now,
      });
      await r.deliveries.enqueue({
        kind: 'confirmation',
        subscriberId: subscriber.id,
        toAddress: subscriber.email,
        idempotencyKey: `confirmation:${requestId}`,
        payload: { requestId },
        messageId: newMessageId(this.opts.mailDomain),
        now,
      });
      await r.audit.record({ actor, action: 'subscriber.resend_confirmation', target: `subscriber:${subscriber.id}`, details: { topicIds, requestId } });
      return { queued: true, topics: topicIds.length };
    });
  }

  /** Subscribers whose address contains `fragment` (case-insensitive), newest first. */
  searchSubscribers(fragment: string, limit: number): Promise<Subscriber[]> {
    return this.repos.subscribers.search(fragment, limit);
  }

  suppressions(limit: number): Promise<Suppression[]> {
    return this.repos.suppressions.list(limit);
  }

  auditLog(limit: number): Promise<AuditRecord[]> {
    return this.repos.audit.recent(limit);
  }

  /** Audited record of an admin downloading a subscriber's data (access, not a change, but personal data leaving). */
  async recordExport(subscriberId: number, actor: string): Promise<void> {
    await this.repos.audit.record({ actor, action: 'subscriber.export', target: `subscriber:${subscriberId}` });
  }

  async addSuppression(address: string, note: string | null, actor: string): Promise<{ emailHash: string; added: boolean }> {
    const normalized = normalizeEmail(address);
    if (!EMAIL.test(normalized)) throw new DomainError(400, 'invalid_request', 'The address is invalid', [{ path: 'email', message: 'must be an email address' }]);
    const emailHash = this.links.signer.emailHash(normalized);
    return this.repos.transaction(async (r) => {
      const existed = await r.suppressions.isSuppressed(emailHash);
      if (!existed) {
        await r.suppressions.add(emailHash, 'manual', note, this.clock.now());
        // The hash, never the address: the audit log must not become a copy of the list.
        await r.audit.record({ actor, action: 'suppression.add', target: `suppression:${emailHash.slice(0, 16)}`, details: { emailHash, note } });
      }
      return { emailHash, added: !existed };
    });
  }

  async removeSuppression(emailHash: string, actor: string): Promise<boolean> {
    return this.repos.transaction(async (r) => {
      const removed = await r.suppressions.remove(emailHash);
      if (removed) await r.audit.record({ actor, action: 'suppression.remove', target: `suppression:${emailHash.slice(0, 16)}`, details: { emailHash } });
      return removed;
    });
  }

  /** Re-queues failed deliveries (all, or the ids given), due now. */
  async retryFailed(ids: number[] | undefined, actor: string): Promise<number[]> {
    return this.repos.transaction(async (r) => {
      const requeued = await r.deliveries.requeueFailed(this.clock.now(), ids);
      if (requeued.length > 0) {
        await r.audit.record({ actor, action: 'deliveries.retry', target: ids?.length === 1 ? `delivery:${ids[0]}` : 'deliveries:failed', details: { count: requeued.length, ids: requeued.slice(0, 1000) } });
      }
      return requeued;
    });
  }

  async revokeToken(id: number, actor: string): Promise<boolean> {
    return this.repos.transaction(async (r) => {
      const revoked = await r.tokens.revoke(id, this.clock.now());
      if (revoked) await r.audit.record({ actor, action: 'token.revoke', target: `token:${id}` });
      return revoked;
    });
  }

  logFailedLogin(email: string, ip: string | null): void {
    // The address is not logged (logs redact addresses); its hash lets an operator see a pattern.
    this.logger.warn({ account: createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 12), ip }, 'admin login failed');
  }
}
