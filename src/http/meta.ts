import type { Request, RequestHandler } from 'express';
import type { RequestMeta } from '../services/subscriptions.js';
import { DomainError } from '../errors.js';

export function requestMeta(req: Request): RequestMeta {
  return { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null, acceptLanguage: req.get('accept-language') ?? null };
}

/** 415 unless the body is JSON or a form (urlencoded or multipart, for RFC 8058 one-click). */
export function acceptBodies(...types: ('json' | 'urlencoded' | 'multipart')[]): RequestHandler {
  const mime = { json: 'application/json', urlencoded: 'application/x-www-form-urlencoded', multipart: 'multipart/form-data' };
  return (req, _res, next) => {
    const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
    if (!hasBody && !req.get('content-type')) return next();
    if (types.some((t) => req.is(mime[t]))) return next();
    throw new DomainError(415, 'unsupported_media_type', `Send ${types.map((t) => mime[t]).join(' or ')}`);
  };
}
