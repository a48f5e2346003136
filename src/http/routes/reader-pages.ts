import type { Request, Response, NextFunction } from 'express';
import type { HandlerContext } from '../../context.js';
import { page, type SafeHtml } from '../html.js';
import type { Topic } from '../../repositories/topics.js';

// What the reader-facing pages (signup, link pages, preference centre) share.

export const FREQUENCIES = [
  ['instant', 'As it happens'],
  ['daily', 'Daily digest'],
  ['weekly', 'Weekly digest'],
] as const;
export const FREQUENCY_LABELS = Object.fromEntries(FREQUENCIES) as Record<(typeof FREQUENCIES)[number][0], string>;

/** A form field that may come as repeated fields or as one comma-separated value. */
export const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? v.split(',') : []);

export const topicNames = (topics: Topic[]) => topics.map((t) => t.name).join(', ');

/** Sends a whole page in the site's layout. */
export function pageSender(ctx: HandlerContext) {
  const publisherName = ctx.config.mail.publisherName;
  return (res: Response, status: number, title: string, body: SafeHtml) => res.status(status).type('html').send(page({ title, publisherName, body }));
}

/** Token pages: never leak the token through Referer, never cache. */
export function tokenPageHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  next();
}
