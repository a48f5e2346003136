import type { Request, RequestHandler } from 'express';
import type { HandlerContext } from '../context.js';
import type { ApiScope } from '../db/types.js';
import { DomainError } from '../errors.js';
import { hasScope } from '../services/tokens.js';

/** Who is acting, for the audit log: set by authentication. */
export function actorOf(req: Request): string {
  return (req.res?.locals.actor as string | undefined) ?? 'anonymous';
}

/**
 * Bearer-token authentication with a scope. 401 when no valid token is presented, 403 when the
 * token lacks the scope (admin tokens carry every scope).
 */
export function requireScope(ctx: HandlerContext, scope: ApiScope): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="topic-alerts"');
      throw new DomainError(401, 'unauthorized', 'An API token is required: Authorization: Bearer <token>');
    }
    const token = await ctx.services.tokens.authenticate(match[1]!);
    if (!token) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="topic-alerts", error="invalid_token"');
      throw new DomainError(401, 'unauthorized', 'The API token is invalid or revoked');
    }
    if (!hasScope(token, scope)) throw new DomainError(403, 'forbidden', `This token lacks the "${scope}" scope`);
    res.locals.actor = `token:${token.name}#${token.id}`;
    next();
  };
}
