import { createHash, randomBytes } from 'node:crypto';
import type { ApiScope } from '../db/types.js';
import type { ApiToken } from '../repositories/tokens.js';
import type { Repositories } from '../repositories/index.js';
import type { Clock } from '../clock.js';

export const API_SCOPES: readonly ApiScope[] = ['admin', 'ingest', 'bounces'];
const PREFIX = 'ta_';

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * API tokens: 256 random bits shown once, stored only as a SHA-256 hash (a fast hash is right
 * for high-entropy secrets; it is the low-entropy passwords that need scrypt).
 */
export class TokenService {
  constructor(private readonly repos: Repositories, private readonly clock: Clock) {}

  async create(name: string, scopes: ApiScope[], actor: string): Promise<{ token: string; record: ApiToken }> {
    const token = PREFIX + randomBytes(32).toString('base64url');
    const record = await this.repos.transaction(async (r) => {
      const rec = await r.tokens.insert(name, sha256(token), [...new Set(scopes)]);
      await r.audit.record({ actor, action: 'token.create', target: `token:${rec.id}`, details: { name, scopes: rec.scopes } });
      return rec;
    });
    return { token, record };
  }

  /** The live token for a bearer secret, or undefined. The hash lookup is the comparison. */
  /** Every token, live ones first (the console's list; secrets are never stored). */
  list(): ReturnType<Repositories['tokens']['list']> {
    return this.repos.tokens.list();
  }

  async authenticate(secret: string): Promise<ApiToken | undefined> {
    if (!secret.startsWith(PREFIX) || secret.length > 100) return undefined;
    const token = await this.repos.tokens.findActiveByHash(sha256(secret));
    if (token) await this.repos.tokens.touch(token.id, this.clock.now());
    return token;
  }
}

/** `admin` may do everything; other scopes only what they name. */
export function hasScope(token: Pick<ApiToken, 'scopes'>, scope: ApiScope): boolean {
  return token.scopes.includes('admin') || token.scopes.includes(scope);
}
