import { rateLimit } from 'express-rate-limit';
import { DomainError } from '../errors.js';

/**
 * Per-IP limit. Over it, a 429 goes through the one error handler, so API callers get the JSON
 * error shape and readers of a page get a page. The store is per process: with several web
 * processes behind a balancer the effective limit is multiplied by their number.
 */
export function perIpLimit(limitPerMinute: number, message = 'Too many requests; please try again in a minute') {
  return rateLimit({
    windowMs: 60_000,
    limit: limitPerMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, _res, next) => {
      next(new DomainError(429, 'rate_limited', message));
    },
  });
}
