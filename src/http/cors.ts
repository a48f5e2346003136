import type { RequestHandler } from 'express';

/**
 * CORS for the widget's endpoints: only origins listed in ALLOWED_ORIGINS (and the service's
 * own) get the header; a page elsewhere cannot call them from a browser.
 */
export function widgetCors(allowedOrigins: string[], baseUrl: string): RequestHandler {
  const allowed = new Set([...allowedOrigins.map((o) => o.replace(/\/+$/, '')), new URL(baseUrl).origin]);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin && (allowed.has(origin) || allowed.has('*'))) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, If-None-Match');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.vary('Origin');
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}
