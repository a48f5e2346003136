import { sql, type Kysely } from 'kysely';
import type { ApiScope, Database } from '../db/types.js';

export interface ApiToken {
  id: number;
  name: string;
  scopes: ApiScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = ['id', 'name', 'scopes', 'created_at', 'last_used_at', 'revoked_at'] as const;

export class TokensRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(name: string, tokenSha256: string, scopes: ApiScope[]): Promise<ApiToken> {
    const r = await this.db.insertInto('api_tokens').values({ name, token_sha256: tokenSha256, scopes }).returning(COLUMNS).executeTakeFirstOrThrow();
    return { id: r.id, name: r.name, scopes: r.scopes, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at };
  }

  /** A live (not revoked) token by the hash of its secret. */
  async findActiveByHash(tokenSha256: string): Promise<ApiToken | undefined> {
    const r = await this.db
      .selectFrom('api_tokens')
      .select(COLUMNS)
      .where('token_sha256', '=', tokenSha256)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return r && { id: r.id, name: r.name, scopes: r.scopes, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at };
  }

  /** Records use at most once a minute per token, so authentication does not write per request. */
  async touch(id: number, now: Date): Promise<void> {
    await this.db
      .updateTable('api_tokens')
      .set({ last_used_at: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`${now}::timestamptz - interval '1 minute'`)]))
      .execute();
  }

  async revoke(id: number, now: Date): Promise<boolean> {
    const r = await this.db.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async list(): Promise<{ id: number; name: string; scopes: string[]; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'scopes', 'created_at', 'last_used_at', 'revoked_at'])
      .orderBy('revoked_at', (ob) => ob.desc().nullsFirst())
      .orderBy('id', 'desc')
      .execute();
    return rows.map((r) => ({ id: r.id, name: r.name, scopes: r.scopes, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at }));
  }
}
