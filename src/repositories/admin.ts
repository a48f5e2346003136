import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.js';

export interface AdminUser {
  id: number;
  email: string;
  createdAt: Date;
  lastLoginAt: Date | null;
}

export interface AdminSession {
  idSha256: string;
  adminUserId: number;
  email: string;
  csrfToken: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

/** Accounts and sessions of the admin console, and the few console writes no service owns. */
export class AdminRepository {
  constructor(private readonly db: Kysely<Database>) {}

  // ---- accounts

  async countUsers(): Promise<number> {
    const r = await this.db.selectFrom('admin_users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Inserts an account; undefined when the address (case-insensitive) already has one. */
  async insertUser(email: string, passwordHash: string): Promise<AdminUser | undefined> {
    const r = await this.db
      .insertInto('admin_users')
      .values({ email, password_hash: passwordHash })
      .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
      .returning(['id', 'email', 'created_at', 'last_login_at'])
      .executeTakeFirst();
    return r && { id: r.id, email: r.email, createdAt: r.created_at, lastLoginAt: r.last_login_at };
  }

  async findUserForLogin(email: string): Promise<(AdminUser & { passwordHash: string }) | undefined> {
    const r = await this.db
      .selectFrom('admin_users')
      .select(['id', 'email', 'password_hash', 'created_at', 'last_login_at'])
      .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
      .executeTakeFirst();
    return r && { id: r.id, email: r.email, passwordHash: r.password_hash, createdAt: r.created_at, lastLoginAt: r.last_login_at };
  }

  async listUsers(): Promise<AdminUser[]> {
    const rows = await this.db.selectFrom('admin_users').select(['id', 'email', 'created_at', 'last_login_at']).orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, email: r.email, createdAt: r.created_at, lastLoginAt: r.last_login_at }));
  }

  async setPassword(id: number, passwordHash: string): Promise<void> {
    await this.db.updateTable('admin_users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
  }

  async recordLogin(id: number, now: Date): Promise<void> {
    await this.db.updateTable('admin_users').set({ last_login_at: now }).where('id', '=', id).execute();
  }

  // ---- sessions

  async insertSession(s: { idSha256: string; adminUserId: number; csrfToken: string; ip: string | null; userAgent: string | null; now: Date; expiresAt: Date }): Promise<void> {
    await this.db
      .insertInto('admin_sessions')
      .values({
        id_sha256: s.idSha256,
        admin_user_id: s.adminUserId,
        csrf_token: s.csrfToken,
        ip: s.ip,
        user_agent: s.userAgent,
        created_at: s.now,
        last_seen_at: s.now,
        expires_at: s.expiresAt,
      })
      .execute();
  }

  /** A session that has not expired at `now`, with its account. The hash lookup is the comparison. */
  async findLiveSession(idSha256: string, now: Date): Promise<AdminSession | undefined> {
    const r = await this.db
      .selectFrom('admin_sessions as s')
      .innerJoin('admin_users as u', 'u.id', 's.admin_user_id')
      .select(['s.id_sha256', 's.admin_user_id', 'u.email', 's.csrf_token', 's.created_at', 's.last_seen_at', 's.expires_at'])
      .where('s.id_sha256', '=', idSha256)
      .where('s.expires_at', '>', now)
      .executeTakeFirst();
    return (
      r && {
        idSha256: r.id_sha256,
        adminUserId: r.admin_user_id,
        email: r.email,
        csrfToken: r.csrf_token,
        createdAt: r.created_at,
        lastSeenAt: r.last_seen_at,
        expiresAt: r.expires_at,
      }
    );
  }

  /** Records activity at most once a minute per session, so browsing does not write per request. */
  async touchSession(idSha256: string, now: Date): Promise<void> {
    await this.db
      .updateTable('admin_sessions')
      .set({ last_seen_at: now })
      .where('id_sha256', '=', idSha256)
      .where('last_seen_at', '<', new Date(now.getTime() - 60_000))
      .execute();
  }

  async deleteSession(idSha256: string): Promise<void> {
    await this.db.deleteFrom('admin_sessions').where('id_sha256', '=', idSha256).execute();
  }

  /** Ends every session of one account (after its password changed). */
  async deleteSessionsOf(adminUserId: number): Promise<number> {
    const r = await this.db.deleteFrom('admin_sessions').where('admin_user_id', '=', adminUserId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteExpiredSessions(now: Date): Promise<number> {
    const r = await this.db.deleteFrom('admin_sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }


}
