import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { HandlerContext } from '../../context.js';
import type { AdminSession } from '../../repositories/admin.js';
import { DomainError } from '../../errors.js';
import { requireScope } from '../auth.js';
import type { ApiScope } from '../../db/types.js';

// Console sessions travel in one cookie: HttpOnly, SameSite=Lax, Secure (and __Host-) under
// https. Every console POST carries the session's CSRF token in a hidden field; the login form,
// which has no session yet, uses a double-submit cookie instead.

export function cookieNames(secure: boolean) {
  return { session: secure ? '__Host-ta_admin' : 'ta_admin', login: secure ? '__Host-ta_admin_login' : 'ta_admin_login' };
}

/** The Cookie header as a map (first value wins, as browsers send the most specific first). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (out.has(name)) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      // a malformed value is no value
    }
  }
  return out;
}

export function setCookie(res: Response, name: string, value: string, opts: { secure: boolean; maxAgeSeconds?: number; path?: string }): void {
  const attrs = [`${name}=${encodeURIComponent(value)}`, `Path=${opts.path ?? '/'}`, 'HttpOnly', 'SameSite=Lax'];
  if (opts.secure) attrs.push('Secure');
  if (opts.maxAgeSeconds !== undefined) attrs.push(`Max-Age=${opts.maxAgeSeconds}`);
  res.append('Set-Cookie', attrs.join('; '));
}

export const safeEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export interface AdminLocals {
  session: AdminSession;
  actor: string;
}

export const adminOf = (res: Response): AdminLocals => res.locals.admin as AdminLocals;

/** Reads the session cookie into res.locals.admin when it names a live session. */
export function loadSession(ctx: HandlerContext): RequestHandler {
  const { session: cookie } = cookieNames(ctx.config.admin.secureCookies);
  return async (req, res, next) => {
    const id = parseCookies(req.headers.cookie).get(cookie);
    const session = id ? await ctx.services.admin.session(id) : undefined;
    if (session) res.locals.admin = { session, actor: `admin:${session.email}` } satisfies AdminLocals;
    next();
  };
}

export function newLoginNonce(): string {
  return randomBytes(24).toString('base64url');
}

/** The CSRF check of a console form: the hidden field must carry this session's token. */
export function csrfOk(req: Request, session: AdminSession): boolean {
  const given = (req.body as Record<string, unknown> | undefined)?._csrf;
  return typeof given === 'string' && safeEqual(given, session.csrfToken);
}

/**
 * Admin API authentication that also accepts a console session (DESIGN §5): a bearer token with
 * the scope, or a logged-in admin. A session may read; a session write must carry its CSRF
 * token in `X-CSRF-Token` (SameSite alone is not relied on).
 */
export function requireScopeOrSession(ctx: HandlerContext, scope: ApiScope): RequestHandler {
  const load = loadSession(ctx);
  const bearer = requireScope(ctx, scope);
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header) {
      await load(req, res, () => undefined);
      const admin = res.locals.admin as AdminLocals | undefined;
      if (admin) {
        const safe = req.method === 'GET' || req.method === 'HEAD';
        const token = req.get('x-csrf-token');
        if (!safe && !(token && safeEqual(token, admin.session.csrfToken))) throw new DomainError(403, 'csrf_failed', 'A console session needs its CSRF token in X-CSRF-Token to change anything');
        res.locals.actor = admin.actor;
        return next();
      }
      res.setHeader('WWW-Authenticate', 'Bearer realm="topic-alerts"');
      throw new DomainError(401, 'unauthorized', 'An API token is required: Authorization: Bearer <token>');
    }
    return bearer(req, res, next);
  };
}
