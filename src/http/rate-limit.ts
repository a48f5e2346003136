import { rateLimit } from 'express-rate-limit';
import { errorBody } from './errors.js';

/**
 * Per-IP limit with the API's error shape. The store is per process: with several web
 * processes behind a balancer the effective limit is multiplied by their number.
 */
export function perIpLimit(limitPerMinute: number, message = 'Too many requests; please try again in a minute') {
  return rateLimit({
    windowMs: 60_000,
    limit: limitPerMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, res) => {
      res.status(429).json(errorBody('rate_limited', message));
    },
  });
}
